/**
 * Reads what the runner left: its result record from the result file (shared file system) or
 * from the end of stdout behind the nonce (remote engine, or a file it could not write), and
 * takes every trace of the runner out of stdout, whole or cut.
 */

/** The record the runner writes: either key absent when it has none. */
interface RunnerRecord {
  value?: unknown;
  note?: string;
}

export interface RunnerReport {
  /** stdout as the program wrote it, without the runner's marker. */
  stdout: string;
  /** The last expression's value: JSON, a repr string, an image object, or "" for none. */
  result: unknown;
  /** Why a result is missing or cut, for operators; null when there is nothing to say. */
  resultNote: string | null;
  /**
   * The runner had started writing its result to stdout when the engine stopped the run for
   * output: the code had finished on its own, and only the runner's record crossed the limit.
   */
  finishedBeforeKill: boolean;
}

/** What the result file held: its text, nothing (no value, or the code never got there), or too much. */
export type ResultFileContent =
  { kind: 'text'; text: string } | { kind: 'missing' } | { kind: 'unreadable'; reason: string };

export interface RunnerOutput {
  stdout: string;
  nonce: string;
  /** null when the runner had no result file (stdout is its only channel). */
  file: ResultFileContent | null;
  /**
   * Why the engine stopped the run (timeout, outputLimit, signal), or null when it ran to its
   * end. outputLimit: stdout may end inside the marker.
   */
  stopReason: string | null;
  outputMaxBytes: number;
}

/**
 * A cut marker shows the nonce's first characters: this many are 32 bits of it, more than
 * code could guess, so only then is "the runner had got to its result" believed.
 */
const NONCE_CHARS_TO_TRUST = 8;

export function readRunnerOutput(output: RunnerOutput): RunnerReport {
  const outputCut = output.stopReason === 'outputLimit';
  const fromStdout = takeMarker(output.stdout, output.nonce, outputCut);
  const notes: string[] = [];
  let record: RunnerRecord | null = null;

  if (output.file?.kind === 'text') {
    record = parseRecord(output.file.text);
    if (record === null) {
      // Written in place to save a rename per run: a kill while the runner writes leaves part.
      notes.push(
        output.stopReason === null
          ? 'the result file held no readable result'
          : `the engine stopped the run (${output.stopReason}) while the runner wrote its result, so it is left out`,
      );
    }
  } else if (output.file?.kind === 'unreadable') {
    notes.push(output.file.reason);
  }
  if (fromStdout.payload !== null) {
    // The runner writes to stdout only without a file, or when it could not write the file:
    // then the marker, which carries the nonce, is the runner's word, whatever the file holds.
    const onStdout = parseRecord(fromStdout.payload);
    if (onStdout === null) notes.push('the result on stdout was unreadable');
    else record = onStdout;
  }
  if (fromStdout.markerCut) {
    notes.push(
      outputCut
        ? `the result was not delivered: it did not fit in the output limit of ${output.outputMaxBytes} bytes after the program's own output`
        : 'the result was not delivered: the run was stopped while the runner wrote it',
    );
  }
  if (record?.note !== undefined) notes.unshift(record.note);
  const finishedBeforeKill = fromStdout.markerCut && outputCut;
  let value = record?.value;
  if (output.stopReason !== null && !finishedBeforeKill && value !== undefined && value !== null) {
    // The engine's kill can come after the code has finished (its output sat in the pipe):
    // a run the engine stopped has no result, whichever of the two won the race.
    notes.push(
      `the code gave a result, but the engine stopped the run (${output.stopReason}), so it is left out`,
    );
    value = undefined;
  }
  return {
    stdout: fromStdout.stdout,
    // None, like a statement, has no result: Azure answers "" for both.
    result: value === undefined || value === null ? '' : value,
    resultNote: notes.length === 0 ? null : notes.join('; '),
    finishedBeforeKill,
  };
}

function parseRecord(text: string): RunnerRecord | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    const { value, note } = parsed as Record<string, unknown>;
    return { value, ...(typeof note === 'string' && { note }) };
  } catch {
    return null;
  }
}

interface Marker {
  stdout: string;
  /** The record's text when the marker was whole. */
  payload: string | null;
  /** A marker cut short by the output limit was there (and is gone from stdout). */
  markerCut: boolean;
}

/**
 * The marker is `\x1e<nonce>:<record>\n`. Text after it (a thread still printing) is kept.
 * A cut marker, or its first characters only, is taken off the end when the engine cut the
 * output: it is the runner's, not the program's.
 */
function takeMarker(stdout: string, nonce: string, outputCut: boolean): Marker {
  const head = `\u001e${nonce}:`;
  const start = stdout.lastIndexOf(head);
  if (start !== -1) {
    const end = stdout.indexOf('\n', start);
    if (end === -1) return { stdout: stdout.slice(0, start), payload: null, markerCut: true };
    return {
      stdout: stdout.slice(0, start) + stdout.slice(end + 1),
      payload: stdout.slice(start + head.length, end),
      markerCut: false,
    };
  }
  if (outputCut) {
    // Only the marker's first characters got through: its record separator begins them.
    const last = stdout.lastIndexOf('\u001e');
    const tail = last === -1 ? '' : stdout.slice(last);
    if (tail !== '' && head.startsWith(tail)) {
      return {
        stdout: stdout.slice(0, last),
        payload: null,
        markerCut: tail.length > NONCE_CHARS_TO_TRUST,
      };
    }
  }
  return { stdout, payload: null, markerCut: false };
}
