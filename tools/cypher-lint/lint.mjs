#!/usr/bin/env node
// Lints Cypher queries with Neo4j's own Cypher 5 analyser (@neo4j-cypher/language-support).
//
//   node lint.mjs < queries.json   # [{"name": ..., "text": ...}, ...]
//   -> [{"name", "errors": [{"message", "line", "column"}], "warnings": [...]}, ...]
//   node lint.mjs --selftest       # exits non-zero unless known-bad/known-good verdicts hold
//
// Lines and columns are 1-based. The schema is the package's built-in mock schema (Neo4j's
// built-in functions and procedures) minus apoc.* and gds.* (plugins we must not depend on),
// with every identifier of the query declared as a label, relationship type and property key so
// that "X is not present in the database" warnings do not drown the useful ones.
// "Parameter not defined" diagnostics are dropped: queries take their parameters at run time.
import { readFileSync } from 'node:fs';
import { isNotParamError, lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const CYPHER_VERSION = 'CYPHER 5';
const SEVERITY_ERROR = 1;
const SEVERITY_WARNING = 2;

const isPlugin = (name) => name.startsWith('apoc.') || name.startsWith('gds.');
// functions/procedures are keyed by Cypher version, then by name.
const stripPlugins = (registry) =>
  Object.fromEntries(
    Object.entries(registry ?? {}).map(([version, entries]) => [
      version,
      Object.fromEntries(Object.entries(entries).filter(([name]) => !isPlugin(name))),
    ]),
  );

const mock = testData.mockSchema;
const BASE_SCHEMA = {
  functions: stripPlugins(mock.functions),
  procedures: stripPlugins(mock.procedures),
  defaultLanguage: CYPHER_VERSION,
};

// Every identifier in the query (plain or `backticked`), plus the data model's own labels.
const MODEL_NAMES = [
  'Artifact', 'Execution', 'Context', 'ArtifactType', 'ExecutionType', 'ContextType',
];
function identifiers(text) {
  const names = new Set(MODEL_NAMES);
  for (const m of text.matchAll(/`((?:[^`]|``)+)`|[A-Za-z_][A-Za-z0-9_]*/g)) {
    names.add(m[1] !== undefined ? m[1].replaceAll('``', '`') : m[0]);
  }
  return [...names];
}

function position(diagnostic) {
  const start = diagnostic.range?.start ?? { line: 0, character: 0 };
  return { line: start.line + 1, column: start.character + 1 };
}

function lint(text) {
  const names = identifiers(text);
  const schema = {
    ...BASE_SCHEMA,
    labels: names,
    relationshipTypes: names,
    propertyKeys: names,
  };
  let diagnostics;
  try {
    const result = lintCypherQuery(text, schema);
    diagnostics = Array.isArray(result) ? result : result.diagnostics;
  } catch (err) {
    return {
      errors: [{ message: `analyser crashed: ${err?.stack ?? err}`, line: 1, column: 1 }],
      warnings: [],
    };
  }
  const errors = [];
  const warnings = [];
  for (const d of diagnostics.filter(isNotParamError)) {
    const entry = { message: d.message, ...position(d) };
    if (d.severity === SEVERITY_ERROR) errors.push(entry);
    else if (d.severity === SEVERITY_WARNING) warnings.push(entry);
  }
  return { errors, warnings };
}

function selftest() {
  // [query, expect errors?]: Neo4j 5 rejects these although other engines accept them.
  const cases = [
    ['MATCH (n:Artifact) RETURN size((n)-->()) AS k', true],
    ['MATCH (n) RETURN n.x(', true],
    ['RETURN vecf32([1.0, 2.0]) AS v', true],
    ['CALL algo.BFS(null, 0, "EVENT") YIELD nodes RETURN nodes', true],
    ['RETURN apoc.coll.sum([1, 2]) AS s', true],
    ['MATCH (a:Artifact {id: $id})<-[:EVENT*]-(x) RETURN DISTINCT x.id AS id', false],
    ['UNWIND $rows AS row MERGE (t:ArtifactType {name: row.name}) RETURN count(t) AS n', false],
    ['MATCH (e:Execution) RETURN COUNT { (e)--() } AS degree', false],
  ];
  let failures = 0;
  for (const [query, bad] of cases) {
    const { errors } = lint(query);
    if ((errors.length > 0) !== bad) {
      failures += 1;
      const verdict = bad ? 'accepted a bad query' : 'rejected a good query';
      console.error(`selftest: ${verdict}: ${query}\n  ${JSON.stringify(errors)}`);
    }
  }
  if (failures) {
    console.error(`selftest: ${failures} of ${cases.length} verdicts wrong`);
    process.exit(1);
  }
  console.log(`selftest: ${cases.length} of ${cases.length} verdicts right`);
}

function main() {
  if (process.argv.includes('--selftest')) {
    selftest();
    return;
  }
  const queries = JSON.parse(readFileSync(0, 'utf8'));
  if (!Array.isArray(queries)) throw new Error('stdin must be a JSON array of {name, text}');
  const report = queries.map(({ name, text }) => ({ name, ...lint(String(text)) }));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main();
