// Yjs relative positions for the interop tests: made and resolved by Yjs itself.
//
//   node relpos.mjs '{"update": "<base64 v1 update>", "cell": 0 | null,
//                     "ranges": [[from, to], ...], "resolve": ["<base64>", ...]}'
//
// The text is the source of notebook cell `cell` (a Y.Map in the root array `cells`), or
// the root Y.Text `source` when `cell` is null. Prints one JSON line: for each range,
// {start, end} as JupyterLab makes them (start assoc 0, end assoc -1, base64), and for
// each position to resolve, its index in that text (or null).
import * as Y from 'yjs'

const config = JSON.parse(process.argv[2])
const doc = new Y.Doc()
Y.applyUpdate(doc, Buffer.from(config.update, 'base64'))
const text = config.cell === null
  ? doc.getText('source')
  : doc.getArray('cells').get(config.cell).get('source')
const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const ranges = (config.ranges ?? []).map(([from, to]) => ({
  start: b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, from, 0))),
  end: b64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(text, to, -1)))
}))
const resolved = (config.resolve ?? []).map((encoded) => {
  const position = Y.decodeRelativePosition(Buffer.from(encoded, 'base64'))
  const absolute = Y.createAbsolutePositionFromRelativePosition(position, doc)
  return absolute === null ? null : absolute.index
})
process.stdout.write(JSON.stringify({ ranges, resolved, text: text.toString() }) + '\n')
