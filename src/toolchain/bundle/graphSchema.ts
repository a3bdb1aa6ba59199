import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync } from 'fs';
import { EdgespecError } from '../errors';
import { repoFiles } from '../paths';

let validator: ValidateFunction | undefined;

function graphValidator(): ValidateFunction {
  if (!validator) {
    let schema: object;
    try {
      schema = JSON.parse(readFileSync(repoFiles.graphSchema, 'utf8'));
    } catch (e) {
      throw new EdgespecError('schema-unreadable', `cannot read the graph schema ${repoFiles.graphSchema}: ${(e as Error).message}`, 'the edgespec installation is incomplete; restore src/common/schema/graph.schema.json');
    }
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator;
}

/** Schema violations of a parsed graph.json, each as "<JSON path>: <problem>"; empty when valid. */
export function graphSchemaErrors(graph: unknown): string[] {
  const validate = graphValidator();
  if (validate(graph)) return [];
  const lines = (validate.errors ?? []).map(describeError);
  return [...new Set(lines)];
}

function describeError(error: ErrorObject): string {
  const where = readablePath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unexpected property '${params.additionalProperty}'`;
    case 'required':
      return `${where}: missing property '${params.missingProperty}'`;
    case 'enum':
      return `${where}: must be one of ${(params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${where}: must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${where}: ${error.message ?? error.keyword}`;
  }
}

/** "/nodes/3/op" -> "nodes[3].op", "/tensors/fc.weight/shape" -> 'tensors["fc.weight"].shape'. */
export function readablePath(pointer: string): string {
  if (pointer === '') return '(top level)';
  const parts = pointer.slice(1).split('/').map(p => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
