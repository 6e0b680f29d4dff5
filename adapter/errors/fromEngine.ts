import type { EngineError } from '../piston/engineError';
import type { AdapterError } from './adapterError';
import { errors } from './errorTable';

/** Maps a failed engine call to the answer an operator can act on. */
export function errorFromEngine(error: EngineError): AdapterError {
  switch (error.kind) {
    case 'unreachable':
      return errors.engine_unavailable({
        message: `the engine is not answering: ${error.message}`,
      });
    case 'timeout':
      return errors.engine_timeout({ message: error.message });
    case 'bad_status': {
      const status = error.details.status ?? 502;
      if (status >= 400 && status < 500) {
        return errors.engine_rejected_request({ message: error.message, engineStatus: status });
      }
      return errors.engine_error({ message: error.message, engineStatus: status });
    }
    case 'bad_response':
      return errors.engine_bad_response({ message: error.message });
    case 'connection_lost':
    case 'aborted':
      return errors.engine_connection_lost({ message: error.message });
  }
}
