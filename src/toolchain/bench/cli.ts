// `npm run bench [-- OPTIONS]`: the same as `edgespec bench OPTIONS`.
import { main } from '../cli';

void main(['bench', ...process.argv.slice(2)]);
