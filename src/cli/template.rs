//! `--format`: the subset of Go's text/template that people script Docker with, over the JSON
//! a verb would print (`inspect --format '{{.State.Pid}}'`, `ps --format
//! 'table {{.Names}}\t{{.Status}}'`).
//!
//! Written by hand: no maintained crate implements Go's template language (gtmpl is
//! unmaintained and pulls in a reflection layer we do not need), and Docker's scripts use a
//! small part of it: field paths, `json`, `index`, `join`, `range … end`, `if … else … end`,
//! `len`, `upper`, `lower`, `println`, and the `table` prefix with Docker's `\t` and `\n`.
//! Values print as Go prints them (`[a b]`, `map[k:v]`, `<no value>` for a missing key).

use serde_json::Value;

/// A parsed `--format`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `table …`: a header row first, columns aligned.
    pub table: bool,
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Print(Expr),
    Range(Expr, Vec<Node>),
    If(Expr, Vec<Node>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    /// `.`, `.A.B`: a path from the current value.
    Field(Vec<String>),
    Str(String),
    Num(i64),
    Call(String, Vec<Expr>),
}

/// Functions the subset knows, with how many arguments each takes.
const FUNCTIONS: [(&str, usize); 8] = [
    ("json", 1),
    ("index", 2),
    ("join", 2),
    ("len", 1),
    ("upper", 1),
    ("lower", 1),
    ("println", 1),
    ("title", 1),
];

impl Template {
    /// Parses `text` as Docker's CLI does: `table ` first asks for a table, and the escapes
    /// `\t` and `\n` typed on a command line are a tab and a newline.
    pub fn parse(text: &str) -> Result<Template, String> {
        let text = text.replace("\\t", "\t").replace("\\n", "\n");
        let trimmed = text.trim_start();
        let (table, body) = match trimmed.strip_prefix("table") {
            Some(rest) if rest.is_empty() || rest.starts_with([' ', '\t']) => {
                (true, rest.trim_start())
            }
            _ => (false, text.as_str()),
        };
        let tokens = tokenize(body)?;
        let mut at = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut at)?;
        if let Some(word) = end {
            return Err(format!("template: unexpected {{{{{word}}}}}"));
        }
        Ok(Template { table, nodes })
    }

    /// The text for `value`.
    pub fn render(&self, value: &Value) -> Result<String, String> {
        let mut out = String::new();
        render(&self.nodes, value, &mut out)?;
        Ok(out)
    }

    /// The header row of a table: each field printed as its column's name (`headers` maps a
    /// field to Docker's header, else the field's name in capitals).
    pub fn header(&self, headers: &[(&str, &str)]) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Print(e) | Node::Range(e, _) | Node::If(e, _, _) => {
                    out.push_str(&header_of(e, headers))
                }
            }
        }
        out
    }
}

fn header_of(e: &Expr, headers: &[(&str, &str)]) -> String {
    match e {
        Expr::Field(path) => {
            let last = path.last().map(String::as_str).unwrap_or("");
            headers
                .iter()
                .find(|(field, _)| *field == last)
                .map(|(_, h)| h.to_string())
                .unwrap_or_else(|| last.to_uppercase())
        }
        Expr::Call(_, args) => args
            .first()
            .map(|a| header_of(a, headers))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Text(String),
    Action(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            tokens.push(Token::Text(rest[..open].to_string()));
        }
        let inner = &rest[open + 2..];
        let close = inner
            .find("}}")
            .ok_or("template: unclosed action (a {{ without }})")?;
        // `{{- x -}}` trims the blanks beside it, as Go's does.
        let mut action = &inner[..close];
        if let Some(a) = action.strip_prefix('-') {
            action = a;
            if let Some(Token::Text(t)) = tokens.last_mut() {
                *t = t.trim_end().to_string();
            }
        }
        let trim_after = action.ends_with('-');
        tokens.push(Token::Action(
            action.trim_end_matches('-').trim().to_string(),
        ));
        rest = &inner[close + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    if !rest.is_empty() {
        tokens.push(Token::Text(rest.to_string()));
    }
    Ok(tokens)
}

/// Nodes up to an `end` or `else` (returned) or the end of the tokens.
fn parse_nodes(tokens: &[Token], at: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while let Some(token) = tokens.get(*at) {
        *at += 1;
        match token {
            Token::Text(t) => nodes.push(Node::Text(t.clone())),
            Token::Action(a) if a == "end" || a == "else" => return Ok((nodes, Some(a.clone()))),
            Token::Action(a) => {
                let (word, rest) = a.split_once(' ').unwrap_or((a, ""));
                match word {
                    "range" | "if" => {
                        let expr = parse_expr(rest)?;
                        let (body, end) = parse_nodes(tokens, at)?;
                        let otherwise = match end.as_deref() {
                            Some("else") => match parse_nodes(tokens, at)? {
                                (nodes, Some(end)) if end == "end" => nodes,
                                _ => return Err(format!("template: {word} without end")),
                            },
                            Some("end") => Vec::new(),
                            _ => return Err(format!("template: {word} without end")),
                        };
                        nodes.push(match word {
                            "range" => Node::Range(expr, body),
                            _ => Node::If(expr, body, otherwise),
                        });
                    }
                    _ => nodes.push(Node::Print(parse_expr(a)?)),
                }
            }
        }
    }
    Ok((nodes, None))
}

/// Words of an action, a quoted string being one.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' {
            chars.next();
            let mut word = String::from('"');
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some('\\') if c == '"' => match chars.next() {
                        Some('n') => word.push('\n'),
                        Some('t') => word.push('\t'),
                        Some(other) => word.push(other),
                        None => return Err("template: unterminated string".into()),
                    },
                    Some(ch) => word.push(ch),
                    None => return Err("template: unterminated string".into()),
                }
            }
            words.push(word);
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            words.push(word);
        }
    }
    Ok(words)
}

fn parse_expr(text: &str) -> Result<Expr, String> {
    let words = words(text)?;
    let Some(first) = words.first() else {
        return Err("template: empty action".into());
    };
    let arg = |w: &String| -> Result<Expr, String> {
        if let Some(s) = w.strip_prefix('"') {
            Ok(Expr::Str(s.to_string()))
        } else if w.starts_with('.') {
            Ok(Expr::Field(
                w.split('.')
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect(),
            ))
        } else if let Ok(n) = w.parse() {
            Ok(Expr::Num(n))
        } else {
            Err(format!("template: function {w:?} not defined"))
        }
    };
    match FUNCTIONS.iter().find(|(name, _)| name == first) {
        Some((name, arity)) => {
            let args = words[1..].iter().map(arg).collect::<Result<Vec<_>, _>>()?;
            if args.len() != *arity {
                return Err(format!(
                    "template: wrong number of args for {name}: want {arity} got {}",
                    args.len()
                ));
            }
            Ok(Expr::Call(name.to_string(), args))
        }
        None if words.len() == 1 => arg(first),
        None => Err(format!("template: function {first:?} not defined")),
    }
}

fn render(nodes: &[Node], dot: &Value, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(e) => out.push_str(&shown(&eval(e, dot)?)),
            Node::Range(e, body) => match eval(e, dot)? {
                Value::Array(items) => {
                    for item in &items {
                        render(body, item, out)?;
                    }
                }
                Value::Object(map) => {
                    for item in map.values() {
                        render(body, item, out)?;
                    }
                }
                Value::Null => {}
                other => {
                    return Err(format!(
                        "template: range can't iterate over {}",
                        shown(&other)
                    ));
                }
            },
            Node::If(e, then, otherwise) => {
                let branch = if truthy(&eval(e, dot)?) {
                    then
                } else {
                    otherwise
                };
                render(branch, dot, out)?;
            }
        }
    }
    Ok(())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A missing key: Go prints `<no value>`.
const NO_VALUE: &str = "<no value>";

fn eval(e: &Expr, dot: &Value) -> Result<Value, String> {
    Ok(match e {
        Expr::Field(path) => {
            let mut v = dot;
            for key in path {
                match v {
                    Value::Object(map) => match map.get(key) {
                        Some(next) => v = next,
                        None => return Ok(Value::String(NO_VALUE.into())),
                    },
                    Value::Null => return Ok(Value::String(NO_VALUE.into())),
                    _ => {
                        return Err(format!(
                            "template: can't evaluate field {key} in {}",
                            shown(v)
                        ));
                    }
                }
            }
            v.clone()
        }
        Expr::Str(s) => Value::String(s.clone()),
        Expr::Num(n) => Value::from(*n),
        Expr::Call(name, args) => {
            let args = args
                .iter()
                .map(|a| eval(a, dot))
                .collect::<Result<Vec<_>, _>>()?;
            call(name, &args)?
        }
    })
}

fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let text = |v: &Value| shown(v);
    Ok(match (name, args) {
        ("json", [v]) => Value::String(serde_json::to_string(v).unwrap_or_default()),
        ("index", [Value::Object(map), key]) => map
            .get(&text(key))
            .cloned()
            .unwrap_or(Value::String(NO_VALUE.into())),
        ("index", [Value::Array(items), Value::Number(n)]) => n
            .as_u64()
            .and_then(|i| items.get(i as usize))
            .cloned()
            .ok_or_else(|| format!("template: index {n} out of range"))?,
        ("index", [v, _]) => return Err(format!("template: can't index {}", shown(v))),
        ("join", [Value::Array(items), sep]) => {
            Value::String(items.iter().map(text).collect::<Vec<_>>().join(&text(sep)))
        }
        ("join", [v, _]) => Value::String(text(v)),
        ("len", [v]) => Value::from(match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            Value::String(s) => s.len(),
            _ => return Err(format!("template: len of {}", shown(v))),
        }),
        ("upper", [v]) => Value::String(text(v).to_uppercase()),
        ("lower", [v]) => Value::String(text(v).to_lowercase()),
        ("title", [v]) => Value::String({
            let t = text(v);
            let mut chars = t.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }),
        ("println", [v]) => Value::String(format!("{}\n", text(v))),
        _ => return Err(format!("template: bad call of {name}")),
    })
}

/// A value as Go's `fmt` prints what JSON decodes to.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            // Go prints a float64 from JSON with %v: 1e+06 style past 21 digits, else plain.
            (None, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        // What a container or an image says (a label, a command) may hold escapes.
        Value::String(s) => crate::printable::escaped(s).into_owned(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(shown).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let pairs: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", shown(&map[*k])))
                .collect();
            format!("map[{}]", pairs.join(" "))
        }
    }
}

/// A verb's `--format`: `table` (its default columns), `json` (one object a line, `inspect`'s
/// array), or a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Table,
    Json,
    Template(Template),
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        match text.trim() {
            "" | "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            _ => Template::parse(text).map(Format::Template),
        }
    }
}

impl Format {
    /// Prints `values` (the rows of a list verb) as asked; `table` is `default`, a table
    /// template of the verb's own columns.
    pub fn rows(
        &self,
        values: &[Value],
        default: &str,
        headers: &[(&str, &str)],
    ) -> Result<String, String> {
        match self {
            Format::Json => Ok(values
                .iter()
                .map(|v| format!("{}\n", serde_json::to_string(v).unwrap_or_default()))
                .collect()),
            Format::Table => print_rows(&Template::parse(default)?, values, headers),
            Format::Template(t) => print_rows(t, values, headers),
        }
    }
}

/// Rows of `\t`-separated cells, aligned as Docker's tabwriter aligns them
/// (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`): each column its widest cell and three
/// blanks, at least ten wide, the last column unpadded.
pub fn aligned(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter(|r| i + 1 < r.len())
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = (widths[i] + 3).max(10) - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Prints `values` as `format` asks: each rendered and ended by a newline (a table's rows
/// aligned under their header), as Docker's `--format` prints list rows.
pub fn print_rows(
    format: &Template,
    values: &[Value],
    headers: &[(&str, &str)],
) -> Result<String, String> {
    let mut lines = Vec::new();
    if format.table {
        lines.push(format.header(headers));
    }
    for v in values {
        lines.push(format.render(v)?);
    }
    Ok(match format.table {
        true => aligned(&lines),
        false => lines.iter().map(|l| format!("{l}\n")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(format: &str, v: &Value) -> String {
        Template::parse(format).unwrap().render(v).unwrap()
    }

    #[test]
    fn fields_functions_and_blocks_render_as_go_does() {
        let v = json!({
            "State": {"Pid": 42, "Running": true},
            "Name": "web",
            "Args": ["-c", "x"],
            "Labels": {"b": "2", "a": "1"},
            "Empty": [],
        });
        assert_eq!(render("{{.State.Pid}}", &v), "42");
        assert_eq!(render("{{.Name}} {{.State.Running}}", &v), "web true");
        assert_eq!(render("{{.Args}} {{.Labels}}", &v), "[-c x] map[a:1 b:2]");
        assert_eq!(
            render("{{json .State}}", &v),
            r#"{"Pid":42,"Running":true}"#
        );
        assert_eq!(render(r#"{{index .Labels "b"}}"#, &v), "2");
        assert_eq!(render("{{index .Args 1}}", &v), "x");
        assert_eq!(render(r#"{{join .Args ","}}"#, &v), "-c,x");
        assert_eq!(render("{{range .Args}}<{{.}}>{{end}}", &v), "<-c><x>");
        assert_eq!(render("{{if .Empty}}y{{else}}n{{end}}", &v), "n");
        assert_eq!(render("{{len .Args}} {{upper .Name}}", &v), "2 WEB");
        assert_eq!(render("{{.Nope}}", &v), "<no value>");
        assert_eq!(render(r"{{.Name}}\t{{.State.Pid}}", &v), "web\t42");
        assert_eq!(render("{{- .Name -}}  !", &v), "web!");
        let hostile = json!({"Label": "\u{1b}]0;owned\u{7}"});
        assert_eq!(render("{{.Label}}", &hostile), "\\u{1b}]0;owned\\u{7}");
    }

    #[test]
    fn bad_templates_say_why() {
        for bad in [
            "{{.Name",
            "{{range .Args}}",
            "{{nope .X}}",
            "{{index .X}}",
            "{{end}}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let t = Template::parse("{{.Name.First}}").unwrap();
        assert!(t.render(&json!({"Name": "x"})).is_err());
    }

    #[test]
    fn a_table_has_a_header_and_aligned_columns() {
        let t = Template::parse(r"table {{.ID}}\t{{.Names}}\t{{.Status}}").unwrap();
        assert!(t.table);
        let rows = [
            json!({"ID": "abc", "Names": "a-long-name", "Status": "Up"}),
            json!({"ID": "d", "Names": "b", "Status": "Exited (0)"}),
        ];
        let text = print_rows(&t, &rows, &[("ID", "CONTAINER ID"), ("Names", "NAMES")]).unwrap();
        assert_eq!(
            text,
            "CONTAINER ID   NAMES         STATUS\n\
             abc            a-long-name   Up\n\
             d              b             Exited (0)\n"
        );
    }
}
