//! The Dockerfile language: lines into instructions (continuations, comments, the `escape`
//! directive), an instruction's arguments in their forms (JSON exec form or shell form,
//! `key=value` pairs with quotes), and `$VAR` / `${VAR:-word}` substitution. Written by hand:
//! the crates that parse Dockerfiles (`dockerfile-parser`) lag the language and pull in a
//! parser generator for what is a line format; what Docker's builder does is specified in its
//! reference and is small.
//!
//! The same instructions change an image's config for `build` and for `commit -c`
//! ([`apply_to_config`]), so the two can never disagree on what `ENV` or `CMD` means.

use anyhow::{anyhow, bail};
use std::collections::BTreeMap;

/// One instruction, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Its first line in the Dockerfile (1-based).
    pub line: usize,
    /// Upper-cased: `RUN`.
    pub keyword: String,
    /// `--name=value` flags before the arguments (`COPY --from=build`).
    pub flags: Vec<(String, String)>,
    /// The rest, continuations joined.
    pub args: String,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// As the classic builder shows it: `RUN apt-get update`.
    pub fn shown(&self) -> String {
        let mut s = self.keyword.clone();
        for (name, value) in &self.flags {
            s.push_str(&format!(" --{name}={value}"));
        }
        if !self.args.is_empty() {
            s.push(' ');
            s.push_str(&self.args);
        }
        s
    }
}

/// Instructions the builder knows.
pub const KEYWORDS: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "ENTRYPOINT",
    "COPY",
    "ADD",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "LABEL",
    "VOLUME",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
    "MAINTAINER",
    "ONBUILD",
];

/// What parsing found besides the instructions: directives it read and ignored.
#[derive(Debug, Default)]
pub struct Parsed {
    pub instructions: Vec<Instruction>,
    pub notes: Vec<String>,
}

/// Parses a Dockerfile. Unknown instructions and heredocs are refused with their line.
pub fn parse(text: &str) -> anyhow::Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut escape = '\\';
    let mut lines = text.lines().enumerate().peekable();
    // Parser directives: `# name=value` lines before anything else.
    while let Some((_, line)) = lines.peek() {
        let Some(directive) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((name, value)) = directive.split_once('=') else {
            break;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "escape" => {
                escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    other => bail!("line 1: escape must be \\ or `, not {other:?}"),
                }
            }
            "syntax" | "check" => parsed.notes.push(format!(
                "the {name} directive ({value}) is read and ignored"
            )),
            _ => break,
        }
        lines.next();
    }
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut text = String::new();
        let mut current = line.to_string();
        loop {
            let body = current.trim_end();
            match body.strip_suffix(escape) {
                Some(rest) => {
                    text.push_str(rest);
                    // The next line that is not a comment (comments inside a continued
                    // instruction are dropped, as Docker drops them).
                    let mut next = None;
                    for (_, l) in lines.by_ref() {
                        if l.trim_start().starts_with('#') {
                            continue;
                        }
                        next = Some(l.to_string());
                        break;
                    }
                    match next {
                        Some(l) => current = l,
                        None => break,
                    }
                }
                None => {
                    text.push_str(body);
                    break;
                }
            }
        }
        let text = text.trim();
        let (keyword, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let keyword = keyword.to_ascii_uppercase();
        let line = index + 1;
        if !KEYWORDS.contains(&keyword.as_str()) {
            bail!(
                "Dockerfile line {line}: unknown instruction: {}",
                crate::printable::escaped(&keyword)
            );
        }
        let mut rest = rest.trim_start();
        let mut flags = Vec::new();
        while let Some(flag) = rest.strip_prefix("--") {
            let (word, after) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
            let (name, value) = word.split_once('=').unwrap_or((word, "true"));
            flags.push((name.to_string(), value.to_string()));
            rest = after.trim_start();
        }
        if rest.starts_with("<<") && matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            bail!(
                "Dockerfile line {line}: heredocs are not supported: write the file in the context and COPY it"
            );
        }
        parsed.instructions.push(Instruction {
            line,
            keyword,
            flags,
            args: rest.trim_end().to_string(),
        });
    }
    Ok(parsed)
}

/// A command as written: exec form (a JSON array) or shell form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Exec(Vec<String>),
    Shell(String),
}

impl Command {
    pub fn parse(args: &str) -> Command {
        if args.trim_start().starts_with('[')
            && let Ok(words) = serde_json::from_str::<Vec<String>>(args)
        {
            return Command::Exec(words);
        }
        Command::Shell(args.to_string())
    }

    /// The argv: a shell form runs through `shell` (`/bin/sh -c` by default).
    pub fn argv(&self, shell: &[String]) -> Vec<String> {
        match self {
            Command::Exec(words) => words.clone(),
            Command::Shell(line) => {
                let mut argv = shell.to_vec();
                argv.push(line.clone());
                argv
            }
        }
    }
}

/// The default `SHELL`.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

/// Splits `args` into words: whitespace separates, quotes (`"`, `'`) group and are removed,
/// a backslash escapes the next character outside single quotes.
pub fn words(args: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = args.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                in_word = true;
                match chars.next() {
                    Some(next) => word.push(next),
                    None => word.push('\\'),
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        bail!("unmatched quote in {args:?}");
    }
    if in_word {
        out.push(word);
    }
    Ok(out)
}

/// `key=value` pairs (`ENV`, `LABEL`, `ARG`), or the legacy `ENV key value with spaces`.
pub fn pairs(args: &str, keyword: &str) -> anyhow::Result<Vec<(String, String)>> {
    let first = args.split_whitespace().next().unwrap_or("");
    if !first.contains('=') && keyword != "ARG" {
        // `ENV NAME value...`: one pair, the value the rest of the line.
        let (name, value) = args
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| anyhow!("{keyword} needs a value: {keyword} NAME=VALUE"))?;
        return Ok(vec![(name.to_string(), value.trim().to_string())]);
    }
    words(args)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            None if keyword == "ARG" => Ok((w, String::new())),
            _ => Err(anyhow!("{keyword}: {w:?} is not NAME=VALUE")),
        })
        .collect()
}

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME:+word}` from `vars`; `\$` is a
/// dollar. An unknown name is empty, as in Docker.
pub fn substitute(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1) == Some(&'$') => {
                out.push('$');
                i += 2;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                let Some(end) = chars[i..].iter().position(|&c| c == '}') else {
                    out.extend(&chars[i..]);
                    break;
                };
                let inner: String = chars[i + 2..i + end].iter().collect();
                let (name, op, word) = match inner.find(":-").or_else(|| inner.find(":+")) {
                    Some(at) => (&inner[..at], &inner[at..at + 2], &inner[at + 2..]),
                    None => (inner.as_str(), "", ""),
                };
                let value = vars.get(name).filter(|v| !v.is_empty());
                match (op, value) {
                    (":-", None) => out.push_str(&substitute(word, vars)),
                    (":+", Some(_)) => out.push_str(&substitute(word, vars)),
                    (":+", None) => {}
                    (_, v) => out.push_str(v.map_or("", String::as_str)),
                }
                i += end + 1;
            }
            '$' if chars.get(i + 1).is_some_and(|&c| name_char(c)) => {
                let len = chars[i + 1..].iter().take_while(|&&c| name_char(c)).count();
                let name: String = chars[i + 1..i + 1 + len].iter().collect();
                out.push_str(vars.get(&name).map_or("", String::as_str));
                i += 1 + len;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The instructions that change only the config (no layer), applied to a config's JSON
/// (`config.Cmd`, `config.Env`, ...), their arguments already substituted. Returns false
/// for any other instruction.
pub fn apply_to_config(
    keyword: &str,
    args: &str,
    config: &mut serde_json::Value,
) -> anyhow::Result<bool> {
    use serde_json::{Value, json};
    if !config.get("config").is_some_and(Value::is_object) {
        config["config"] = json!({});
    }
    let c = &mut config["config"];
    let list = |v: Vec<String>| Value::from(v);
    match keyword {
        "CMD" | "ENTRYPOINT" => {
            let shell: Vec<String> = c
                .get("Shell")
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_else(default_shell);
            let argv = Command::parse(args).argv(&shell);
            let key = if keyword == "CMD" {
                "Cmd"
            } else {
                "Entrypoint"
            };
            c[key] = list(argv);
            if keyword == "ENTRYPOINT" {
                // A new entrypoint drops the Cmd an earlier stage or base image gave.
                c["Cmd"] = Value::Null;
            }
        }
        "ENV" => {
            let mut env: Vec<String> = c
                .get("Env")
                .and_then(|e| serde_json::from_value(e.clone()).ok())
                .unwrap_or_default();
            for (key, value) in pairs(args, "ENV")? {
                env.retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
                env.push(format!("{key}={value}"));
            }
            c["Env"] = list(env);
        }
        "LABEL" => {
            if !c.get("Labels").is_some_and(Value::is_object) {
                c["Labels"] = json!({});
            }
            for (key, value) in pairs(args, "LABEL")? {
                c["Labels"][key] = value.into();
            }
        }
        "MAINTAINER" => config["author"] = args.trim().into(),
        "WORKDIR" => {
            let current = c.get("WorkingDir").and_then(Value::as_str).unwrap_or("/");
            let dir = std::path::Path::new(if current.is_empty() { "/" } else { current })
                .join(args.trim());
            c["WorkingDir"] = dir.to_string_lossy().into_owned().into();
        }
        "USER" => c["User"] = args.trim().into(),
        "EXPOSE" => {
            if !c.get("ExposedPorts").is_some_and(Value::is_object) {
                c["ExposedPorts"] = json!({});
            }
            for port in words(args)? {
                let port = if port.contains('/') {
                    port
                } else {
                    format!("{port}/tcp")
                };
                crate::spec::network::Network::parse_expose(&port)
                    .map_err(|e| anyhow!("EXPOSE {port}: {e}"))?;
                c["ExposedPorts"][port] = json!({});
            }
        }
        "VOLUME" => {
            if !c.get("Volumes").is_some_and(Value::is_object) {
                c["Volumes"] = json!({});
            }
            let paths = match Command::parse(args) {
                Command::Exec(paths) => paths,
                Command::Shell(line) => words(&line)?,
            };
            for path in paths {
                c["Volumes"][path] = json!({});
            }
        }
        "STOPSIGNAL" => {
            let signal = args.trim();
            crate::spec::run::parse_signal(signal)
                .map_err(|e| anyhow!("STOPSIGNAL {signal}: {e}"))?;
            c["StopSignal"] = signal.into();
        }
        "SHELL" => match Command::parse(args) {
            Command::Exec(words) if !words.is_empty() => c["Shell"] = list(words),
            _ => {
                bail!("SHELL must be written in JSON form: SHELL [\"executable\", \"parameters\"]")
            }
        },
        "ONBUILD" => {
            let mut triggers: Vec<String> = c
                .get("OnBuild")
                .and_then(|e| serde_json::from_value(e.clone()).ok())
                .unwrap_or_default();
            triggers.push(args.trim().to_string());
            c["OnBuild"] = list(triggers);
        }
        "HEALTHCHECK" => c["Healthcheck"] = healthcheck(args)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `HEALTHCHECK [--interval=D ...] CMD command` or `HEALTHCHECK NONE`, as Docker's config
/// holds it (durations in nanoseconds).
fn healthcheck(args: &str) -> anyhow::Result<serde_json::Value> {
    let mut rest = args.trim();
    let mut check = serde_json::json!({});
    while let Some(flag) = rest.strip_prefix("--") {
        let (word, after) = flag.split_once(char::is_whitespace).unwrap_or((flag, ""));
        let (name, value) = word
            .split_once('=')
            .ok_or_else(|| anyhow!("HEALTHCHECK --{word}: give a value"))?;
        let key = match name {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => "Retries",
            other => bail!("HEALTHCHECK: unknown flag --{other}"),
        };
        check[key] = if key == "Retries" {
            value
                .parse::<u64>()
                .map_err(|_| anyhow!("HEALTHCHECK --retries={value}: not a number"))?
                .into()
        } else {
            (crate::spec::run::parse_duration_ms(value)
                .map_err(|e| anyhow!("HEALTHCHECK --{name}: {e}"))?
                * 1_000_000)
                .into()
        };
        rest = after.trim_start();
    }
    let (word, command) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match word.to_ascii_uppercase().as_str() {
        "NONE" => check["Test"] = serde_json::json!(["NONE"]),
        "CMD" => {
            check["Test"] = match Command::parse(command) {
                Command::Exec(argv) => [vec!["CMD".to_string()], argv].concat().into(),
                Command::Shell(line) => serde_json::json!(["CMD-SHELL", line]),
            }
        }
        _ => bail!("HEALTHCHECK takes CMD command or NONE"),
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_continuations_comments_and_directives() {
        let parsed = parse(
            "# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\n# a comment\nRUN echo a `\n# inside\n  && echo b\ncopy --from=build --chown=1:2 a b\n",
        )
        .unwrap();
        assert_eq!(parsed.notes.len(), 1);
        let i = &parsed.instructions;
        assert_eq!(i.len(), 3);
        assert_eq!(
            (i[1].line, i[1].args.as_str()),
            (5, "RUN echo a   && echo b".split_once(' ').unwrap().1)
        );
        assert_eq!(i[2].keyword, "COPY");
        assert_eq!(i[2].flag("from"), Some("build"));
        assert_eq!(i[2].flag("chown"), Some("1:2"));
        assert_eq!(i[2].args, "a b");
        assert!(
            parse("FROB x")
                .unwrap_err()
                .to_string()
                .contains("line 1: unknown instruction")
        );
        assert!(parse("RUN <<EOF\nx\nEOF").is_err());
    }

    #[test]
    fn forms_pairs_and_substitution() {
        assert_eq!(
            Command::parse(r#"["a", "b c"]"#),
            Command::Exec(vec!["a".into(), "b c".into()])
        );
        assert_eq!(
            Command::parse("echo [x]"),
            Command::Shell("echo [x]".into())
        );
        assert_eq!(
            pairs(r#"A=1 B="two words" C=a\ b"#, "ENV").unwrap(),
            [
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "a b".into())
            ]
        );
        assert_eq!(
            pairs("NAME some value", "ENV").unwrap(),
            [("NAME".into(), "some value".into())]
        );
        let vars: BTreeMap<String, String> = [
            ("A".to_string(), "x".to_string()),
            ("E".into(), String::new()),
        ]
        .into();
        assert_eq!(
            substitute("$A/${A}/${B:-d}/${A:+y}/${E:-e}/\\$A/$B.", &vars),
            "x/x/d/y/e/$A/."
        );
    }

    #[test]
    fn config_instructions() {
        let mut config = serde_json::json!({"config": {"Env": ["PATH=/bin", "A=1"]}});
        for (k, a) in [
            ("ENV", "A=2 B=3"),
            ("CMD", "echo hi"),
            ("WORKDIR", "/app"),
            ("WORKDIR", "sub"),
            ("EXPOSE", "80 53/udp"),
            ("LABEL", "k=v"),
            ("HEALTHCHECK", "--interval=5s CMD true"),
        ] {
            assert!(apply_to_config(k, a, &mut config).unwrap());
        }
        let c = &config["config"];
        assert_eq!(c["Env"], serde_json::json!(["PATH=/bin", "A=2", "B=3"]));
        assert_eq!(c["Cmd"], serde_json::json!(["/bin/sh", "-c", "echo hi"]));
        assert_eq!(c["WorkingDir"], "/app/sub");
        assert!(c["ExposedPorts"]["53/udp"].is_object());
        assert_eq!(c["Healthcheck"]["Interval"], 5_000_000_000u64);
        assert!(!apply_to_config("RUN", "x", &mut config).unwrap());
        assert!(apply_to_config("STOPSIGNAL", "SIGNOPE", &mut config).is_err());
    }
}
