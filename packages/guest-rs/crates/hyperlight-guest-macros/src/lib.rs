//! `#[guest_function]`, `#[host_function]`, `#[guest_init]` and
//! `#[instrument]` for `hyperlight-guest`.
//!
//! Use them through `hyperlight_guest` (which re-exports them); the generated
//! code names `::hyperlight_guest`, so the guest must depend on that crate
//! under its own name.
//!
//! Guests cannot use crates.io, so there is no `syn`/`quote`: the macros walk
//! the `TokenTree`s of the small set of signatures they accept, and generate
//! code from templates whose placeholder identifiers (`__HL_*`) are replaced
//! by the user's tokens, keeping their spans so type errors point at the
//! user's code.

#![warn(missing_docs)]

extern crate proc_macro;

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Most parameters a guest or host function may declare
/// (`MAX_GUEST_FUNCTION_PARAMETERS` in `schema/abi.json`).
const MAX_PARAMETERS: usize = 11;

/// Registers a function the host can call.
///
/// ```ignore
/// #[guest_function("Add")]
/// fn add(a: i32, b: i32) -> i32 { a + b }
///
/// #[guest_function] // callable as "divide"
/// fn divide(a: i32, b: i32) -> Result<i32> {
///     a.checked_div(b).ok_or_else(|| GuestError::new("division by zero"))
/// }
/// ```
///
/// The name the host uses is the string literal, or the Rust name when there
/// is none. Parameters are `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, `bool`,
/// `String` or `Vec<u8>` (at most 11); the return type is one of those, `()`,
/// or a `Result<_, GuestError>` of one. The function must be a free,
/// non-generic, non-`async` `fn` with plain identifier parameters.
#[proc_macro_attribute]
pub fn guest_function(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_guest_function(attr, item.clone()) {
        Ok(out) => out,
        Err(e) => {
            // Keep the function so its own uses do not cascade into more errors.
            let mut out = item;
            out.extend(e.into_compile_error());
            out
        }
    }
}

/// Declares a host function; the macro supplies the body, which calls the
/// host through the `CALL_HOST` port.
///
/// ```ignore
/// #[host_function("GetWeekday")]
/// fn get_weekday() -> Result<String, HostError>;
///
/// #[host_function("HostPrint")]
/// fn host_print(message: &str) -> i32; // panics (aborts) if the host fails
/// ```
///
/// The declaration is a `fn` item ending in `;` instead of a body. Parameters
/// take any type a guest function takes, plus `&str` and `&[u8]`. Returning
/// `Result<T, HostError>` hands failures to the caller; returning `T` panics
/// on failure.
#[proc_macro_attribute]
pub fn host_function(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_host_function(attr, item).unwrap_or_else(Error::into_compile_error)
}

/// Marks the guest's initialisation hook: a `fn()` the runtime calls once,
/// while the host evolves the sandbox (`OP_INIT`), after the heap is ready and
/// before the guest function table is published.
///
/// ```ignore
/// #[guest_init]
/// fn init() {
///     let config = hyperlight_guest::init_data();
///     info!("{} bytes of init data", config.len());
/// }
/// ```
///
/// The hook may allocate, print, log, read init data and call host
/// functions. It takes no parameters and returns nothing; to fail
/// initialisation, panic or `abort` (the host's `evolve()` then throws and
/// nothing is published). A guest has at most one: with two, initialisation
/// panics naming both. The attribute takes no arguments, and the function must
/// be a free, non-generic, non-`async` `fn` with a body.
#[proc_macro_attribute]
pub fn guest_init(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_guest_init(attr, item.clone()) {
        Ok(out) => out,
        Err(e) => {
            // Keep the function so its own uses do not cascade into more errors.
            let mut out = item;
            out.extend(e.into_compile_error());
            out
        }
    }
}

/// Wraps a function in a tracing span: it opens when the function is
/// entered and closes when it returns (however it returns).
///
/// ```ignore
/// #[instrument]                                    // span "parse" at Info, target = module path
/// fn parse(input: &str) -> usize { ... }
///
/// #[guest_function("Resize")]
/// #[instrument(name = "resize", level = "debug", target = "images", fields(width, pixels = width * height))]
/// fn resize(width: i32, height: i32) -> i32 { ... }
/// ```
///
/// Arguments, all optional, comma-separated: `name = "..."` (default: the
/// function's name), `level = "trace" | "debug" | "info" | "warn" | "error" |
/// "critical"` (default `"info"`), `target = "..."` (default: the module
/// path) and `fields(...)`, whose entries are a parameter name (recorded as
/// itself) or `key = expression`; values are anything `span!` takes. Works
/// on any function with a body, before or after `#[guest_function]`.
///
/// Without `hyperlight-guest`'s `trace` feature the function is left exactly
/// as written.
#[proc_macro_attribute]
pub fn instrument(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_instrument(attr, item.clone()) {
        Ok(out) => out,
        Err(e) => {
            // Keep the function so its own uses do not cascade into more errors.
            let mut out = item;
            out.extend(e.into_compile_error());
            out
        }
    }
}

/// A compile error at a span.
struct Error {
    span: Span,
    message: String,
}

fn error<T>(span: Span, message: impl Into<String>) -> Result<T, Error> {
    Err(Error { span, message: message.into() })
}

impl Error {
    /// `::core::compile_error! { "message" }` with every token at the span.
    fn into_compile_error(self) -> TokenStream {
        let span = self.span;
        let punct = |c, spacing| {
            let mut p = Punct::new(c, spacing);
            p.set_span(span);
            TokenTree::Punct(p)
        };
        let mut message = Literal::string(&self.message);
        message.set_span(span);
        let mut body = Group::new(Delimiter::Brace, TokenTree::Literal(message).into());
        body.set_span(span);
        [
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("core", span)),
            punct(':', Spacing::Joint),
            punct(':', Spacing::Alone),
            TokenTree::Ident(Ident::new("compile_error", span)),
            punct('!', Spacing::Alone),
            TokenTree::Group(body),
        ]
        .into_iter()
        .collect()
    }
}

/// Which attribute is parsing: they accept slightly different signatures.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Guest,
    Host,
    Init,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Guest => "guest_function",
            Kind::Host => "host_function",
            Kind::Init => "guest_init",
        }
    }
}

/// One parameter: `[mut] name: Type`.
struct Param {
    name: Ident,
    ty: Vec<TokenTree>,
}

/// The parts of a `fn` item the macros need.
struct FnItem {
    /// Outer attributes and visibility, re-emitted as written.
    prefix: Vec<TokenTree>,
    /// The `fn` keyword.
    fn_token: TokenTree,
    name: Ident,
    /// The parenthesised parameter list, as written.
    params_group: Group,
    params: Vec<Param>,
    /// `-> Type` as written (empty when there is no return type).
    arrow_and_return: Vec<TokenTree>,
    /// The return type (empty means `()`).
    return_type: Vec<TokenTree>,
    /// `{ ... }`, or `None` for a `;`-terminated declaration.
    body: Option<Group>,
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(t: Option<&TokenTree>, name: &str) -> bool {
    matches!(t, Some(TokenTree::Ident(i)) if i.to_string() == name)
}

fn span_of(tokens: &[TokenTree]) -> Span {
    tokens.first().map_or_else(Span::call_site, TokenTree::span)
}

/// The exported name: `("Name")` or, when absent, the Rust name.
fn parse_name(attr: TokenStream, kind: Kind, default: &Ident) -> Result<String, Error> {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    let usage = format!("expected a string literal naming the function, like #[{}(\"Name\")]", kind.attribute());
    match tokens.as_slice() {
        [] => Ok(default.to_string()),
        [TokenTree::Literal(lit)] => {
            let text = lit.to_string();
            let Some(name) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
                return error(lit.span(), usage);
            };
            if name.is_empty() {
                return error(lit.span(), "the function name must not be empty");
            }
            if name.contains('\\') {
                return error(lit.span(), "the function name must not contain escapes");
            }
            Ok(name.to_owned())
        }
        other => error(span_of(other), usage),
    }
}

fn parse_fn(item: TokenStream, kind: Kind) -> Result<FnItem, Error> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;
    let mut prefix = Vec::new();
    // Outer attributes (including doc comments): `#` `[...]`.
    while is_punct(tokens.get(i), '#') {
        prefix.extend(tokens[i..(i + 2).min(tokens.len())].iter().cloned());
        i += 2;
    }
    // Visibility: `pub`, `pub(crate)`, ...
    if is_ident(tokens.get(i), "pub") {
        prefix.push(tokens[i].clone());
        i += 1;
        if let Some(TokenTree::Group(g)) = tokens.get(i) {
            if g.delimiter() == Delimiter::Parenthesis {
                prefix.push(tokens[i].clone());
                i += 1;
            }
        }
    }
    let what = match kind {
        Kind::Guest => "guest functions",
        Kind::Host => "host function declarations",
        Kind::Init => "#[guest_init] functions",
    };
    for qualifier in ["const", "async", "unsafe", "extern"] {
        if is_ident(tokens.get(i), qualifier) {
            return error(tokens[i].span(), format!("{what} cannot be `{qualifier}`"));
        }
    }
    let fn_token = match tokens.get(i) {
        Some(t @ TokenTree::Ident(id)) if id.to_string() == "fn" => t.clone(),
        other => {
            let span = other.map_or_else(Span::call_site, TokenTree::span);
            return error(span, format!("#[{}] goes on a `fn` item", kind.attribute()));
        }
    };
    i += 1;
    let Some(TokenTree::Ident(name)) = tokens.get(i).cloned() else {
        return error(fn_token.span(), "expected the function's name");
    };
    i += 1;
    if is_punct(tokens.get(i), '<') {
        return error(tokens[i].span(), format!("{what} cannot be generic"));
    }
    let params_group = match tokens.get(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.clone(),
        _ => return error(name.span(), "expected the parameter list"),
    };
    i += 1;
    let params = parse_params(&params_group, kind)?;

    let mut arrow_and_return = Vec::new();
    let mut return_type = Vec::new();
    if is_punct(tokens.get(i), '-') && is_punct(tokens.get(i + 1), '>') {
        arrow_and_return.extend(tokens[i..i + 2].iter().cloned());
        i += 2;
        while let Some(t) = tokens.get(i) {
            let ends = is_ident(Some(t), "where")
                || is_punct(Some(t), ';')
                || matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
            if ends {
                break;
            }
            return_type.push(t.clone());
            i += 1;
        }
        if return_type.is_empty() {
            return error(arrow_and_return[1].span(), "expected a return type after `->`");
        }
        arrow_and_return.extend(return_type.iter().cloned());
    }
    if is_ident(tokens.get(i), "where") {
        return error(tokens[i].span(), format!("{what} cannot have a `where` clause"));
    }

    let body = match (kind, tokens.get(i)) {
        (Kind::Guest | Kind::Init, Some(TokenTree::Group(g))) if g.delimiter() == Delimiter::Brace => Some(g.clone()),
        (Kind::Guest | Kind::Init, other) => {
            let span = other.map_or_else(|| name.span(), TokenTree::span);
            let noun = if kind == Kind::Guest { "a guest function" } else { "a #[guest_init] function" };
            return error(span, format!("{noun} needs a body"));
        }
        (Kind::Host, Some(t)) if is_punct(Some(t), ';') => None,
        (Kind::Host, other) => {
            let span = other.map_or_else(|| name.span(), TokenTree::span);
            return error(
                span,
                "a host function is declared without a body: end the signature with `;`, \
                 e.g. `fn get_weekday() -> Result<String, HostError>;`",
            );
        }
    };
    i += 1;
    if let Some(extra) = tokens.get(i) {
        return error(extra.span(), "unexpected tokens after the function");
    }
    Ok(FnItem { prefix, fn_token, name, params_group, params, arrow_and_return, return_type, body })
}

/// Splits `(a: A, mut b: B<C, D>)` at top-level commas and checks each part.
fn parse_params(group: &Group, kind: Kind) -> Result<Vec<Param>, Error> {
    let mut parts: Vec<Vec<TokenTree>> = vec![Vec::new()];
    let mut angle_depth = 0i32;
    let mut prev_dash = false;
    for t in group.stream() {
        let mut dash = false;
        if let TokenTree::Punct(p) = &t {
            match p.as_char() {
                '<' => angle_depth += 1,
                // `->` inside a type is not a closing angle bracket.
                '>' if !prev_dash => angle_depth -= 1,
                '-' => dash = p.spacing() == Spacing::Joint,
                ',' if angle_depth == 0 => {
                    parts.push(Vec::new());
                    prev_dash = false;
                    continue;
                }
                _ => {}
            }
        }
        prev_dash = dash;
        if let Some(part) = parts.last_mut() {
            part.push(t);
        }
    }
    if parts.last().is_some_and(Vec::is_empty) {
        parts.pop(); // trailing comma, or no parameters
    }
    if kind == Kind::Init {
        if let Some(first) = parts.first() {
            return error(
                span_of(first),
                "a #[guest_init] function takes no parameters: read init data with `init_data()`",
            );
        }
    }
    if parts.len() > MAX_PARAMETERS {
        let noun = if kind == Kind::Guest { "guest" } else { "host" };
        return error(
            group.span(),
            format!("{noun} functions take at most {MAX_PARAMETERS} parameters; this one declares {}", parts.len()),
        );
    }
    parts.into_iter().map(|part| parse_param(part, group.span(), kind)).collect()
}

fn parse_param(part: Vec<TokenTree>, list_span: Span, kind: Kind) -> Result<Param, Error> {
    let span = span_of(&part);
    if part.is_empty() {
        return error(list_span, "empty parameter");
    }
    if is_punct(part.first(), '#') {
        return error(span, "parameter attributes are not supported");
    }
    if is_punct(part.first(), '&') || is_ident(part.first(), "self") || is_ident(part.get(1), "self") {
        return error(span, "methods are not supported: use a free function");
    }
    let mut i = 0;
    if is_ident(part.first(), "mut") {
        if kind == Kind::Host {
            return error(span, "host function parameters cannot be `mut`");
        }
        i = 1;
    }
    let name = match part.get(i) {
        Some(TokenTree::Ident(id)) => id.clone(),
        _ => return error(span, "parameters must be plain identifiers (`name: Type`), not patterns"),
    };
    // `name` `:` (a lone colon, not the first half of `::`)
    match part.get(i + 1) {
        Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Alone => {}
        _ => return error(name.span(), "parameters must be plain identifiers (`name: Type`), not patterns"),
    }
    let ty: Vec<TokenTree> = part[i + 2..].to_vec();
    if ty.is_empty() {
        return error(name.span(), "expected a parameter type");
    }
    if kind == Kind::Guest && is_punct(ty.first(), '&') {
        return error(
            span_of(&ty),
            "guest function parameters are owned values: use `String` instead of `&str` and `Vec<u8>` instead of `&[u8]`",
        );
    }
    Ok(Param { name, ty })
}

/// Parses `template` and replaces each placeholder identifier with tokens.
fn expand(template: &str, replace: &dyn Fn(&str) -> Option<Vec<TokenTree>>) -> TokenStream {
    fn walk(stream: TokenStream, replace: &dyn Fn(&str) -> Option<Vec<TokenTree>>) -> TokenStream {
        let mut out = TokenStream::new();
        for t in stream {
            match t {
                TokenTree::Ident(ref id) => match replace(&id.to_string()) {
                    Some(tokens) => out.extend(tokens),
                    None => out.extend([t]),
                },
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), walk(g.stream(), replace));
                    inner.set_span(g.span());
                    out.extend([TokenTree::Group(inner)]);
                }
                other => out.extend([other]),
            }
        }
        out
    }
    walk(template.parse().expect("macro template parses"), replace)
}

/// A Rust string literal for `s` (names and identifiers only: no escapes needed
/// beyond what `Debug` gives, which is valid literal syntax).
fn str_literal(s: &str) -> String {
    format!("{s:?}")
}

fn unit_type() -> Vec<TokenTree> {
    vec![TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new()))]
}

fn expand_guest_function(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Error> {
    let f = parse_fn(item.clone(), Kind::Guest)?;
    let name = parse_name(attr, Kind::Guest, &f.name)?;

    let mut template = String::from(
        "const _: () = {
            #[allow(unused_mut)]
            fn __hl_invoke(
                mut __hl_args: ::hyperlight_guest::__private::Args,
            ) -> ::core::result::Result<::hyperlight_guest::Value, ::hyperlight_guest::GuestError> {\n",
    );
    for i in 0..f.params.len() {
        template += &format!("let __hl_arg{i}: __HL_T{i} = __hl_args.next_arg::<__HL_T{i}>()?;\n");
    }
    let call_args: Vec<String> = (0..f.params.len()).map(|i| format!("__hl_arg{i}")).collect();
    template += &format!(
        "<__HL_R as ::hyperlight_guest::__private::GuestReturn>::into_guest_result(__HL_FN({}))
            }}
            #[used]
            #[unsafe(link_section = \"hyperlight_guest_functions\")]
            static __HL_REGISTRATION: ::hyperlight_guest::__private::GuestFunctionRegistration =
                ::hyperlight_guest::__private::GuestFunctionRegistration {{
                    name: {name},
                    rust_name: {rust_name},
                    parameter_types: &[{types}],
                    return_type: <__HL_R as ::hyperlight_guest::__private::GuestReturn>::VALUE_TYPE,
                    invoke: __hl_invoke,
                }};
        }};",
        call_args.join(", "),
        name = str_literal(&name),
        rust_name = str_literal(&f.name.to_string()),
        types = (0..f.params.len())
            .map(|i| format!("::hyperlight_guest::__private::param_type::<__HL_T{i}>()"))
            .collect::<Vec<_>>()
            .join(", "),
    );

    let registration = expand(&template, &|placeholder| match placeholder {
        "__HL_FN" => Some(vec![TokenTree::Ident(f.name.clone())]),
        "__HL_R" if f.return_type.is_empty() => Some(unit_type()),
        "__HL_R" => Some(f.return_type.clone()),
        p => p.strip_prefix("__HL_T").and_then(|i| i.parse::<usize>().ok()).map(|i| f.params[i].ty.clone()),
    });
    let mut out = item;
    out.extend(registration);
    Ok(out)
}

fn expand_host_function(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Error> {
    let f = parse_fn(item, Kind::Host)?;
    let name = parse_name(attr, Kind::Host, &f.name)?;
    debug_assert!(f.body.is_none());

    let args: Vec<String> = (0..f.params.len())
        .map(|i| format!("<__HL_T{i} as ::hyperlight_guest::__private::HostArg>::into_host_value(__HL_P{i})"))
        .collect();
    let template = format!(
        "{{
            <__HL_R as ::hyperlight_guest::__private::HostReturn>::from_host_result(
                {name},
                ::hyperlight_guest::call_host_value(
                    {name},
                    &[{args}],
                    <__HL_R as ::hyperlight_guest::__private::HostReturn>::VALUE_TYPE,
                ),
            )
        }}",
        name = str_literal(&name),
        args = args.join(", "),
    );
    let body = expand(&template, &|placeholder| match placeholder {
        "__HL_R" if f.return_type.is_empty() => Some(unit_type()),
        "__HL_R" => Some(f.return_type.clone()),
        p => {
            let (index, param) =
                if let Some(i) = p.strip_prefix("__HL_P") { (i, true) } else { (p.strip_prefix("__HL_T")?, false) };
            let param_ref = &f.params[index.parse::<usize>().ok()?];
            Some(if param { vec![TokenTree::Ident(param_ref.name.clone())] } else { param_ref.ty.clone() })
        }
    });

    // The declaration as written, with the `;` replaced by the body.
    let mut out = TokenStream::new();
    out.extend(f.prefix);
    out.extend([f.fn_token, TokenTree::Ident(f.name), TokenTree::Group(f.params_group)]);
    out.extend(f.arrow_and_return);
    out.extend(body);
    Ok(out)
}

/// Whether `tokens` spell the unit type `()`.
fn is_unit(tokens: &[TokenTree]) -> bool {
    matches!(tokens, [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty())
}

fn expand_guest_init(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Error> {
    if let Some(first) = attr.into_iter().next() {
        return error(first.span(), "#[guest_init] takes no arguments: the runtime calls the function itself");
    }
    let f = parse_fn(item.clone(), Kind::Init)?;
    if !f.return_type.is_empty() && !is_unit(&f.return_type) {
        return error(
            span_of(&f.return_type),
            "a #[guest_init] function returns nothing; to fail initialisation, panic or call `abort`",
        );
    }
    let template = format!(
        "const _: () = {{
            #[used]
            #[unsafe(link_section = \"hyperlight_guest_init\")]
            static __HL_REGISTRATION: ::hyperlight_guest::__private::GuestInitRegistration =
                ::hyperlight_guest::__private::GuestInitRegistration {{ rust_name: {rust_name}, run: __HL_FN }};
            // One symbol per hook: a second hook is a duplicate-symbol error
            // when the guest is built, not only a panic when it starts.
            #[unsafe(no_mangle)]
            static only_one_guest_init_per_guest: u8 = 0;
        }};",
        rust_name = str_literal(&f.name.to_string()),
    );
    let registration = expand(&template, &|placeholder| match placeholder {
        "__HL_FN" => Some(vec![TokenTree::Ident(f.name.clone())]),
        _ => None,
    });
    let mut out = item;
    out.extend(registration);
    Ok(out)
}

/// What `#[instrument(...)]` asks for.
struct InstrumentArgs {
    name: Option<Literal>,
    /// The `LogLevel` variant.
    level: &'static str,
    target: Option<Literal>,
    /// `, key = (value)` for each field, ready to append to `span!`'s arguments.
    fields: Vec<TokenTree>,
}

/// Splits a token stream at its top-level commas, dropping empty parts.
fn split_commas(stream: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    for t in stream {
        match &t {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(Vec::new()),
            _ => parts.last_mut().expect("never empty").push(t),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// A string literal's token, or an error naming the argument.
fn string_literal(tokens: &[TokenTree], argument: &str, span: Span) -> Result<Literal, Error> {
    match tokens {
        [TokenTree::Literal(lit)] if lit.to_string().starts_with('"') => Ok(lit.clone()),
        _ => error(span, format!("`{argument}` takes a string literal, like {argument} = \"...\"")),
    }
}

fn parse_instrument_args(attr: TokenStream) -> Result<InstrumentArgs, Error> {
    let mut args = InstrumentArgs { name: None, level: "Info", target: None, fields: Vec::new() };
    let usage = "expected `name = \"...\"`, `level = \"...\"`, `target = \"...\"` or `fields(...)`";
    for part in split_commas(attr) {
        let span = span_of(&part);
        let key = match part.first() {
            Some(TokenTree::Ident(id)) => id.to_string(),
            _ => return error(span, usage),
        };
        if key == "fields" {
            let [_, TokenTree::Group(group)] = part.as_slice() else { return error(span, usage) };
            if group.delimiter() != Delimiter::Parenthesis {
                return error(span, usage);
            }
            for field in split_commas(group.stream()) {
                let field_span = span_of(&field);
                let Some(TokenTree::Ident(name)) = field.first() else {
                    return error(field_span, "a field is a parameter name or `key = expression`");
                };
                let value: Vec<TokenTree> = match field.get(1) {
                    None => vec![TokenTree::Ident(name.clone())],
                    Some(TokenTree::Punct(p)) if p.as_char() == '=' && field.len() > 2 => field[2..].to_vec(),
                    Some(_) => return error(field_span, "a field is a parameter name or `key = expression`"),
                };
                args.fields.push(TokenTree::Punct(Punct::new(',', Spacing::Alone)));
                args.fields.push(TokenTree::Ident(name.clone()));
                args.fields.push(TokenTree::Punct(Punct::new('=', Spacing::Alone)));
                args.fields.push(TokenTree::Group(Group::new(Delimiter::Parenthesis, value.into_iter().collect())));
            }
            continue;
        }
        if !is_punct(part.get(1), '=') {
            return error(span, usage);
        }
        let value = &part[2..];
        match key.as_str() {
            "name" => args.name = Some(string_literal(value, "name", span)?),
            "target" => args.target = Some(string_literal(value, "target", span)?),
            "level" => {
                let lit = string_literal(value, "level", span)?.to_string();
                args.level = match lit.trim_matches('"').to_ascii_lowercase().as_str() {
                    "trace" => "Trace",
                    "debug" => "Debug",
                    "info" => "Info",
                    "warn" => "Warn",
                    "error" => "Error",
                    "critical" => "Critical",
                    _ => {
                        return error(
                            span,
                            "`level` is one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"critical\"",
                        );
                    }
                };
            }
            _ => return error(span, usage),
        }
    }
    Ok(args)
}

fn expand_instrument(attr: TokenStream, item: TokenStream) -> Result<TokenStream, Error> {
    let args = parse_instrument_args(attr)?;
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let Some(fn_at) = tokens.iter().position(|t| is_ident(Some(t), "fn")) else {
        return error(span_of(&tokens), "#[instrument] goes on a `fn` item");
    };
    if tokens[..fn_at].iter().any(|t| is_ident(Some(t), "async")) {
        return error(tokens[fn_at].span(), "#[instrument] does not support `async` functions");
    }
    let Some(TokenTree::Ident(name)) = tokens.get(fn_at + 1).cloned() else {
        return error(tokens[fn_at].span(), "expected the function's name");
    };
    let body = match tokens.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
        other => {
            return error(
                other.map_or_else(|| name.span(), |t| t.span()),
                "#[instrument] needs a function with a body",
            );
        }
    };
    if !cfg!(feature = "trace") {
        tokens.push(TokenTree::Group(body));
        return Ok(tokens.into_iter().collect());
    }
    let name_literal = args.name.unwrap_or_else(|| Literal::string(&name.to_string()));
    let wrapped = expand(
        "{
            let __HL_GUARD = ::hyperlight_guest::span!(
                target: __HL_TARGET, ::hyperlight_guest::LogLevel::__HL_LEVEL, __HL_NAME __HL_FIELDS
            );
            __HL_BODY
        }",
        &|placeholder| match placeholder {
            // Mixed-site: the guard cannot clash with the body's own names.
            "__HL_GUARD" => Some(vec![TokenTree::Ident(Ident::new("__hl_span", Span::mixed_site()))]),
            "__HL_TARGET" => Some(match &args.target {
                Some(target) => vec![TokenTree::Literal(target.clone())],
                None => "::core::module_path!()".parse::<TokenStream>().expect("parses").into_iter().collect(),
            }),
            "__HL_LEVEL" => Some(vec![TokenTree::Ident(Ident::new(args.level, name.span()))]),
            "__HL_NAME" => Some(vec![TokenTree::Literal(name_literal.clone())]),
            "__HL_FIELDS" => Some(args.fields.clone()),
            "__HL_BODY" => Some(vec![TokenTree::Group(body.clone())]),
            _ => None,
        },
    );
    tokens.extend(wrapped);
    Ok(tokens.into_iter().collect())
}
