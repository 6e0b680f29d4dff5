import express, { type Request, type RequestHandler, type Router } from 'express';
import { pipeline } from 'node:stream/promises';
import { fileDetails, fileList, fileResource } from '../../files/azureFileShapes';
import { parseFileName } from '../../files/fileNames';
import type { FileStore, StoredFile } from '../../files/fileStore';
import { receiveUpload } from '../../files/multipartUpload';
import { identifierOf } from '../requestContext';

export interface FileRouteOptions {
  store: FileStore;
}

/** The multipart field every Azure sessions client puts the file in. */
const UPLOAD_FIELD = 'file';

/**
 * Azure's session files API in both generations, on the container's one session (the store
 * refuses another identifier's requests with 409 while it holds files):
 * A: POST /files/upload, GET /files, GET /files/content/{name}, GET|DELETE /files/{name};
 * B: POST /files, GET /files, GET /files/{name}/content, DELETE /files/{name}.
 * Paths both generations use answer in a shape both can read (see azureFileShapes).
 */
export function fileRoutes({ store }: FileRouteOptions): Router {
  const router = express.Router();

  const upload = async (req: Request): Promise<StoredFile> => {
    // Before a byte is stored: another identifier's session is refused at once.
    store.assertMayUse(identifierOf(req));
    const tempPath = store.stagingPath();
    let received;
    try {
      received = await receiveUpload(req, {
        field: UPLOAD_FIELD,
        maxFileBytes: store.options.maxFileBytes,
        nameOf: parseFileName,
        tempPath,
      });
    } catch (error) {
      await store.discardStaged(tempPath);
      throw error;
    }
    return store.commit(identifierOf(req), received.name, received.tempPath);
  };

  router.post('/files/upload', async (req, res) => {
    res.status(200).json(fileList([await upload(req)]));
  });
  router.post('/files', async (req, res) => {
    res.status(200).json(fileResource(await upload(req)));
  });
  router.get('/files', async (req, res) => {
    res.status(200).json(fileList(await store.list(identifierOf(req))));
  });
  // A wildcard for A: LangChain and Semantic Kernel (Python) put the name in the path
  // without escaping "/", so "/mnt/data/x.csv" arrives as /files/content//mnt/data/x.csv.
  router.get(['/files/content/*name', '/files/:name/content'], sendContent(store));
  router.get('/files/:name', async (req, res) => {
    res.status(200).json(fileDetails(await store.describe(identifierOf(req), req.params['name'])));
  });
  // One path for both generations; B requires 204, and A's clients accept any 2xx.
  router.delete('/files/:name', async (req, res) => {
    await store.remove(identifierOf(req), req.params['name']);
    res.status(204).end();
  });
  return router;
}

function sendContent(store: FileStore): RequestHandler<{ name: string | string[] }> {
  return async (req, res) => {
    const { name } = req.params;
    const { file, stream } = await store.openForReading(
      identifierOf(req),
      Array.isArray(name) ? name.join('/') : name,
    );
    // setHeader, not res.set: express would add "charset=utf-8" to text types, which the
    // stored bytes need not be.
    res.status(200);
    res.setHeader('content-type', file.contentType);
    res.setHeader('content-length', String(file.size));
    res.setHeader('last-modified', file.lastModified.toUTCString());
    try {
      await pipeline(stream, res);
    } catch (error) {
      // The client left mid-download: nobody is there to answer.
      if ((error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw error;
    }
  };
}
