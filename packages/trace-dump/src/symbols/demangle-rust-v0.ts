/**
 * Demangler for Rust's v0 symbol names (`_R…`), following the grammar of
 * Rust RFC 2603 ("Rust Symbol Name Mangling v0"). Output follows rustc's
 * style without hashes: `<alloc::raw_vec::RawVecInner>::finish_grow`,
 * `<T as core::fmt::Display>::fmt`, generic arguments included.
 * Punycode identifiers are printed as encoded.
 */

const MAX_DEPTH = 100;
const MAX_OUTPUT_SIZE = 2048;

const BASIC_TYPES: Readonly<Record<string, string>> = {
  a: 'i8', b: 'bool', c: 'char', d: 'f64', e: 'str', f: 'f32', h: 'u8', i: 'isize', j: 'usize', l: 'i32',
  m: 'u32', n: 'i128', o: 'u128', s: 'i16', t: 'u16', u: '()', v: '...', x: 'i64', y: 'u64', z: '!', p: '_',
};

/** Thrown inside the parser to give up; the caller keeps the mangled name. */
class Unparsable extends Error {}

/**
 * The demangled form of a v0 name, or undefined when it is not one this
 * parser understands.
 * @example
 * demangleRustV0('_RNvNtCs1234_4core3fmt5write'); // 'core::fmt::write'
 */
export function demangleRustV0(name: string): string | undefined {
  // A vendor suffix such as `.llvm.123` follows the symbol; backreferences count from after `_R`.
  const symbol = name.slice(2).split('.')[0]!;
  const parser = new V0Parser(symbol);
  try {
    if (/^[0-9]/.test(symbol)) throw new Unparsable();
    parser.path(false);
    return parser.out;
  } catch (error) {
    if (error instanceof Unparsable) return undefined;
    throw error;
  }
}

class V0Parser {
  out = '';
  #at = 0;
  #depth = 0;

  constructor(readonly sym: string) {}

  path(inType: boolean): void {
    this.#nest(() => {
      const tag = this.#next();
      switch (tag) {
        case 'C':
          this.#identifier();
          break;
        case 'M':
          this.#implPath();
          this.#emit('<');
          this.type();
          this.#emit('>');
          break;
        case 'X':
          this.#implPath();
          this.#emit('<');
          this.type();
          this.#emit(' as ');
          this.path(true);
          this.#emit('>');
          break;
        case 'Y':
          this.#emit('<');
          this.type();
          this.#emit(' as ');
          this.path(true);
          this.#emit('>');
          break;
        case 'N': {
          const namespace = this.#next();
          if (!/[a-zA-Z]/.test(namespace)) throw new Unparsable();
          this.path(inType);
          const { disambiguator, name } = this.#identifierParts();
          if (namespace === 'C') this.#emit(`::{closure${name ? `:${name}` : ''}#${disambiguator}}`);
          else if (/[A-Z]/.test(namespace)) this.#emit(`::{${namespace === 'S' ? 'shim' : namespace}${name ? `:${name}` : ''}#${disambiguator}}`);
          else if (name) this.#emit(`::${name}`);
          break;
        }
        case 'I':
          this.path(inType);
          this.#emit(inType ? '<' : '::<');
          this.#list(() => this.#genericArg());
          this.#emit('>');
          break;
        case 'B':
          this.#backref(() => this.path(inType));
          break;
        default:
          throw new Unparsable();
      }
    });
  }

  type(): void {
    this.#nest(() => {
      const tag = this.#peek();
      const basic = BASIC_TYPES[tag];
      if (basic) {
        this.#at++;
        this.#emit(basic);
        return;
      }
      this.#at++;
      switch (tag) {
        case 'R':
        case 'Q':
          this.#emit(tag === 'R' ? '&' : '&mut ');
          if (this.#peek() === 'L') this.#lifetime();
          this.type();
          break;
        case 'P':
        case 'O':
          this.#emit(tag === 'P' ? '*const ' : '*mut ');
          this.type();
          break;
        case 'A':
          this.#emit('[');
          this.type();
          this.#emit('; ');
          this.#const();
          this.#emit(']');
          break;
        case 'S':
          this.#emit('[');
          this.type();
          this.#emit(']');
          break;
        case 'T': {
          this.#emit('(');
          const count = this.#list(() => this.type());
          this.#emit(count === 1 ? ',)' : ')');
          break;
        }
        case 'F':
          this.#fnSig();
          break;
        case 'D':
          this.#emit('dyn ');
          this.#binder();
          this.#list(() => this.#dynTrait(), ' + ');
          this.#lifetime();
          break;
        case 'B':
          this.#backref(() => this.type());
          break;
        default:
          this.#at--;
          this.path(true);
      }
    });
  }

  #fnSig(): void {
    this.#binder();
    if (this.#eat('U')) this.#emit('unsafe ');
    if (this.#eat('K')) {
      const abi = this.#eat('C') ? 'C' : this.#identifierParts(true).name.replace(/_/g, '-');
      this.#emit(`extern "${abi}" `);
    }
    this.#emit('fn(');
    this.#list(() => this.type());
    this.#emit(')');
    if (this.#peek() === 'u') this.#at++;
    else {
      this.#emit(' -> ');
      this.type();
    }
  }

  #dynTrait(): void {
    this.path(true);
    let bindings = 0;
    while (this.#eat('p')) {
      this.#emit(bindings++ === 0 ? '<' : ', ');
      this.#emit(`${this.#identifierParts(true).name} = `);
      this.type();
    }
    if (bindings > 0) this.#emit('>');
  }

  #genericArg(): void {
    if (this.#peek() === 'L') {
      this.#lifetime();
      this.#emit("'_");
    } else if (this.#eat('K')) this.#const();
    else this.type();
  }

  #const(): void {
    if (this.#eat('p')) {
      this.#emit('_');
      return;
    }
    if (this.#eat('B')) {
      this.#backref(() => this.#const());
      return;
    }
    const type = this.#next();
    if (!BASIC_TYPES[type]) throw new Unparsable();
    const negative = this.#eat('n');
    const end = this.sym.indexOf('_', this.#at);
    const hex = this.sym.slice(this.#at, end);
    if (end < 0 || !/^[0-9a-f]*$/.test(hex)) throw new Unparsable();
    this.#at = end + 1;
    const value = BigInt(`0x0${hex}`);
    if (type === 'b') this.#emit(value === 0n ? 'false' : 'true');
    else if (type === 'c' && value <= 0x10ffffn) this.#emit(`'${String.fromCodePoint(Number(value))}'`);
    else this.#emit(`${negative ? '-' : ''}${value}`);
  }

  #implPath(): void {
    if (this.#eat('s')) this.#base62();
    const saved = this.out;
    this.path(false);
    this.out = saved; // rustc prints impls by their self type, not the module they are in
  }

  #identifier(): void {
    this.#emit(this.#identifierParts().name);
  }

  #identifierParts(undisambiguated = false): { disambiguator: number; name: string } {
    const disambiguator = !undisambiguated && this.#eat('s') ? this.#base62() + 1 : 0;
    const punycode = this.#eat('u');
    const digits = /^[0-9]+/.exec(this.sym.slice(this.#at, this.#at + 10))?.[0];
    if (!digits || (digits.length > 1 && digits.startsWith('0'))) throw new Unparsable();
    this.#at += digits.length;
    this.#eat('_');
    const length = Number(digits);
    if (this.#at + length > this.sym.length) throw new Unparsable();
    const name = this.sym.slice(this.#at, this.#at + length);
    this.#at += length;
    return { disambiguator, name: punycode ? `punycode{${name}}` : name };
  }

  #lifetime(): void {
    if (!this.#eat('L')) throw new Unparsable();
    this.#base62();
  }

  #binder(): void {
    if (this.#eat('G')) this.#base62();
  }

  #backref(parse: () => void): void {
    const start = this.#at - 1;
    const target = this.#base62();
    if (target >= start) throw new Unparsable();
    const resume = this.#at;
    this.#at = target;
    parse();
    this.#at = resume;
  }

  #base62(): number {
    if (this.#eat('_')) return 0;
    let value = 0;
    for (;;) {
      const c = this.#next();
      if (c === '_') return value + 1;
      const digit = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.indexOf(c);
      if (digit < 0) throw new Unparsable();
      // Crate disambiguators are 64-bit hashes: only their presence matters, so precision may go.
      value = value * 62 + digit;
    }
  }

  /** Parses items until `E`, separated by `separator`; returns how many. */
  #list(item: () => void, separator = ', '): number {
    let count = 0;
    while (!this.#eat('E')) {
      if (count++ > 0) this.#emit(separator);
      item();
    }
    return count;
  }

  #nest(parse: () => void): void {
    if (++this.#depth > MAX_DEPTH) throw new Unparsable();
    parse();
    this.#depth--;
  }

  #emit(text: string): void {
    this.out += text;
    if (this.out.length > MAX_OUTPUT_SIZE) throw new Unparsable();
  }

  #peek(): string {
    return this.sym[this.#at] ?? '';
  }

  #next(): string {
    const c = this.sym[this.#at++];
    if (c === undefined) throw new Unparsable();
    return c;
  }

  #eat(c: string): boolean {
    if (this.sym[this.#at] !== c) return false;
    this.#at++;
    return true;
  }
}
