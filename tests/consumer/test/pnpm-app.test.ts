// The main consumer app installed with pnpm, strict layout (see support/hello-app-suite.ts).
import { describeHelloApp } from './support/hello-app-suite.js';

describeHelloApp('pnpm');
