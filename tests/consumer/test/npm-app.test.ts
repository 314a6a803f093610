// The main consumer app installed with npm (see support/hello-app-suite.ts).
import { describeHelloApp } from './support/hello-app-suite.js';

describeHelloApp('npm');
