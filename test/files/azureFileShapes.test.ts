import { fileDetails, fileList, fileResource } from '../../adapter/files/azureFileShapes';
import type { StoredFile } from '../../adapter/files/fileStore';

const file = (name: string, size: number, iso: string, contentType = 'text/plain'): StoredFile => ({
  name,
  size,
  lastModified: new Date(iso),
  contentType,
});

const a = file('a.txt', 16, '2024-05-02T07:21:07.456Z');
const b = file('chart.png', 2048, '2024-05-02T08:00:00.000Z', 'image/png');

describe('fileResource (generation B)', () => {
  test('the flat resource, with whole-second UTC times', () => {
    expect(fileResource(a)).toEqual({
      name: 'a.txt',
      type: 'File',
      contentType: 'text/plain',
      sizeInBytes: 16,
      lastModifiedAt: '2024-05-02T07:21:07Z',
    });
  });
});

describe('fileList (GET /files, upload reply)', () => {
  test('$id counts 1, then 2/3, 4/5 per entry; each entry carries both generations', () => {
    expect(fileList([a, b])).toEqual({
      $id: '1',
      value: [
        {
          $id: '2',
          properties: {
            $id: '3',
            filename: 'a.txt',
            size: 16,
            lastModifiedTime: '2024-05-02T07:21:07Z',
          },
          name: 'a.txt',
          type: 'File',
          contentType: 'text/plain',
          sizeInBytes: 16,
          lastModifiedAt: '2024-05-02T07:21:07Z',
        },
        {
          $id: '4',
          properties: {
            $id: '5',
            filename: 'chart.png',
            size: 2048,
            lastModifiedTime: '2024-05-02T08:00:00Z',
          },
          name: 'chart.png',
          type: 'File',
          contentType: 'image/png',
          sizeInBytes: 2048,
          lastModifiedAt: '2024-05-02T08:00:00Z',
        },
      ],
    });
  });

  test('no $id repeats however long the list', () => {
    const files = Array.from({ length: 7 }, (_, i) => file(`f${i}`, i, '2024-01-01T00:00:00.000Z'));
    const list = fileList(files);
    const ids = [list.$id, ...list.value.flatMap((entry) => [entry.$id, entry.properties.$id])];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map(Number)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  test('an empty session is an empty value list', () => {
    expect(fileList([])).toEqual({ $id: '1', value: [] });
  });
});

describe('fileDetails (GET /files/{name})', () => {
  test('generation A properties with $id 2, generation B keys beside', () => {
    expect(fileDetails(b)).toEqual({
      $id: '1',
      properties: {
        $id: '2',
        filename: 'chart.png',
        size: 2048,
        lastModifiedTime: '2024-05-02T08:00:00Z',
      },
      name: 'chart.png',
      type: 'File',
      contentType: 'image/png',
      sizeInBytes: 2048,
      lastModifiedAt: '2024-05-02T08:00:00Z',
    });
  });
});
