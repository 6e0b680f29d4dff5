import type { StoredFile } from './fileStore';

/**
 * File metadata in the shapes Azure's session clients parse (see contract, "Files").
 *
 * Generation A clients read `value[i].properties.{filename,size}`; generation B clients read
 * `value[i].{name,sizeInBytes,type,...}` from the very same `GET /files`. Each entry carries
 * both, which neither generation objects to: each ignores the other's keys.
 */

/** Azure writes whole seconds: "2024-05-02T07:21:07Z". */
function azureTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Generation B's flat file resource: the `POST /files` reply and a `GET /files` entry. */
export function fileResource(file: StoredFile) {
  return {
    name: file.name,
    type: 'File',
    contentType: file.contentType,
    sizeInBytes: file.size,
    lastModifiedAt: azureTime(file.lastModified),
  };
}

function fileProperties(file: StoredFile, id: number) {
  return {
    $id: String(id),
    filename: file.name,
    size: file.size,
    lastModifiedTime: azureTime(file.lastModified),
  };
}

/**
 * `GET /files` and the `POST /files/upload` reply. `$id` counts through the document as
 * Azure's .NET serializer numbers objects: 1 for the envelope, then 2/3, 4/5, ... per entry.
 */
export function fileList(files: StoredFile[]) {
  return {
    $id: '1',
    value: files.map((file, index) => ({
      $id: String(2 + 2 * index),
      properties: fileProperties(file, 3 + 2 * index),
      ...fileResource(file),
    })),
  };
}

/** Generation A's `GET /files/{name}`, with generation B's keys beside, as in the list. */
export function fileDetails(file: StoredFile) {
  return { $id: '1', properties: fileProperties(file, 2), ...fileResource(file) };
}
