import packageJson from '../package.json';

/** Who answers: named in every response header and in GET /. */
export const ADAPTER_NAME = packageJson.name;
export const ADAPTER_VERSION = packageJson.version;
export const SERVED_BY = `${ADAPTER_NAME}/${ADAPTER_VERSION}`;
