//! Command-line arguments: parsed once, at the edge, into a [`crate::spec::ContainerSpec`] (run, the
//! dashboard) or into one of the lifecycle [`verbs`].

mod attach;
pub(crate) mod control;
mod cp;
pub mod error;
mod events;
mod exec;
mod image;
pub(crate) mod logs;
mod network;
mod ps;
mod show;
mod system;
mod template;
mod update;
pub mod verbs;
mod volume;

use crate::headless;
use crate::spec::options::{Built, Host, OPTIONS, Run, Takes};
use crate::tui;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use error::{CliError, Outcome, report};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Resource limits go through a cgroup per container, my-container-tui/<id>: on cgroup v2 the
memory, pids and cpu controllers; on v1 and hybrid hosts the memory, pids, cpu and cpuacct
hierarchies.

Exit status:
  the command's own     when it exits
  128+N                 when it is killed by signal N (137 also when out of memory)
  125                   a runtime error (bad option, not root, a namespace refused)
  126                   the command was found but cannot be executed
  127                   the command was not found";

/// A Linux container shell manager: namespaced shells, headless or in a dashboard.
///
/// With no command, opens the dashboard; with --run (or `run`), runs one container headless.
/// `oci VERB` (or this binary named `mct-runc`) is runc's command line, for containerd.
#[derive(Debug, Parser)]
#[command(name = "my-container-tui", version)]
struct Cli {
    /// Run CMD headless in a new container and exit with its status, like `docker run --rm`.
    /// Everything after --run is the command; a single argument with spaces runs via /bin/sh -c
    #[arg(long, value_name = "CMD", num_args = 0.., allow_hyphen_values = true)]
    run: Option<Vec<String>>,

    #[command(flatten)]
    dashboard: tui::Options,

    #[command(subcommand)]
    subcommand: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The same as --run: `my-container-tui run [OPTIONS] CMD [ARGS]...`
    Run {
        /// The command and its arguments (with --image, the image's Cmd when left out)
        #[arg(trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Make a container as `run -d` would, without starting it (`start` does): `my-container-tui
    /// create [OPTIONS] [IMAGE] CMD [ARGS]...`
    Create {
        /// The command and its arguments (with an image, the image's Cmd when left out)
        #[arg(trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Build a root filesystem for --rootfs: `rootfs busybox DIR` makes a minimal one from the
    /// host's static busybox
    Rootfs {
        #[arg(value_enum)]
        kind: RootfsKind,
        /// Where to build it (created; must be empty if it exists)
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RootfsKind {
    /// The host's static busybox and its applets, with /etc/passwd and /etc/group
    Busybox,
}

/// What the arguments ask for.
#[derive(Debug)]
pub enum Action {
    /// Run one container headless, or detached.
    Run(Box<Built>),
    /// Make a container, to start later.
    Create(Box<Built>),
    /// Build a busybox root filesystem in this directory.
    BusyboxRootfs(PathBuf),
    /// No command given: the dashboard, with its own options and the run its sessions start
    /// from (limits, hardening, rootfs, image, volumes, environment given on the command line).
    Dashboard(tui::Options, Box<Run>),
}

/// The run options as clap arguments, from the one table ([`crate::spec::options`]): global,
/// so they may come before or after `run`.
fn run_args() -> impl Iterator<Item = Arg> {
    OPTIONS.iter().map(|opt| option_arg(opt).global(true))
}

/// One row of the table as a clap argument (`update` takes some rows too).
pub(crate) fn option_arg(opt: &'static crate::spec::options::Opt) -> Arg {
    {
        let mut arg = Arg::new(opt.long)
            .long(opt.long)
            .help(opt.help)
            .conflicts_with_all(opt.conflicts);
        if let Some(c) = opt.short {
            arg = arg.short(c);
        }
        if let Some(alias) = opt.alias {
            arg = arg.visible_alias(alias);
        }
        if let Some(needed) = opt.requires {
            arg = arg.requires(needed);
        }
        match opt.takes {
            Takes::Flag => arg.action(ArgAction::SetTrue),
            takes => {
                let arg = arg
                    .value_name(opt.value)
                    .allow_hyphen_values(opt.hyphen_values)
                    .action(match takes {
                        Takes::Many => ArgAction::Append,
                        _ => ArgAction::Set,
                    });
                // Values are checked once, as `run_of` applies them.
                match opt.words {
                    [] => arg,
                    words => arg.value_parser(words.to_vec()),
                }
            }
        }
    }
}

/// The whole command line: clap's derive for the program's shape, the table for run options.
fn command() -> clap::Command {
    Cli::command().args(run_args())
}

/// The run the arguments in `matches` ask for, over the defaults.
fn run_of(matches: &clap::ArgMatches) -> Result<Run, clap::Error> {
    let mut run = Run::new(crate::state::record::new_id());
    for opt in &OPTIONS {
        let applied = match opt.takes {
            Takes::Flag if matches.get_flag(opt.long) => {
                run.apply(opt, "").map_err(|e| e.to_string())
            }
            Takes::Flag => Ok(()),
            _ => matches
                .get_many::<String>(opt.long)
                .into_iter()
                .flatten()
                .try_for_each(|value| {
                    // In clap's words for a bad value, naming the option and the value.
                    run.apply(opt, value).map_err(|e| {
                        format!(
                            "invalid value '{value}' for '--{} <{}>': {e}",
                            opt.long, opt.value
                        )
                    })
                }),
        };
        applied.map_err(|e| command().error(clap::error::ErrorKind::ValueValidation, e))?;
    }
    Ok(run)
}

/// Parses `args` (without the program name's special cases) into an [`Action`].
pub fn parse<I, T>(args: I) -> Result<Action, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    parse_on(args, &Host::current(), &crate::image::positional::in_store)
}

/// [`parse`], typed on `host`, with a store that holds the images `in_store` says it holds.
fn parse_on<I, T>(
    args: I,
    host: &Host,
    in_store: &dyn Fn(&str) -> bool,
) -> Result<Action, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    // The verbs' summary costs a second parser's construction: only for the help.
    let asks_help = args
        .iter()
        .any(|a| a == "--help" || a == "-h" || a == "help");
    let command = if asks_help {
        command().after_help(format!("{}\n{EXIT_CODES}", verbs::summary()))
    } else {
        command()
    };
    let matches = command.try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let mut run = run_of(&matches)?;
    let mut create = false;
    let mut dashed = false;
    let mut words = match (cli.subcommand, cli.run) {
        (Some(Command::Run { command }), None) => command,
        (Some(Command::Create { command }), None) => {
            // Made to be started later, under a monitor: as `run -d`.
            create = true;
            let detach = crate::spec::options::option("detach").expect("a row of the table");
            run.apply(detach, "")
                .map_err(|e| self::command().error(clap::error::ErrorKind::ValueValidation, e))?;
            command
        }
        (None, Some(command)) => {
            dashed = true;
            command
        }
        (None, None) => return Ok(Action::Dashboard(cli.dashboard, Box::new(run))),
        (
            Some(Command::Rootfs {
                kind: RootfsKind::Busybox,
                dir,
            }),
            None,
        ) => {
            return Ok(Action::BusyboxRootfs(absolute(dir)));
        }
        (Some(_), Some(_)) => {
            return Err(self::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--run and the run subcommand cannot be used together",
            ));
        }
    };
    run.take_image_word(&mut words, in_store)
        .map_err(|e| self::command().error(clap::error::ErrorKind::ValueValidation, e))?;
    if words.is_empty() && run.image().is_none() {
        return Err(self::command().error(
            clap::error::ErrorKind::MissingRequiredArgument,
            match dashed {
                true => "--run needs a command (or --image, whose Cmd runs)",
                false => "a command is required (or --image, whose Cmd runs)",
            },
        ));
    }
    run.finish(words, host)
        .map(|built| match create {
            true => Action::Create(Box::new(built)),
            false => Action::Run(Box::new(built)),
        })
        .map_err(|e| self::command().error(clap::error::ErrorKind::ArgumentConflict, e))
}

/// `--cidfile`: the container's id, in a file that must not exist yet (Docker's refusal: it
/// may be another container's).
fn write_cidfile(file: &std::path::Path, id: &str) -> Result<(), CliError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .and_then(|mut f| f.write_all(id.as_bytes()))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::runtime(format!(
                "container ID file found, make sure the other container isn't running or delete {}",
                file.display()
            )),
            _ => CliError::runtime(format!(
                "cannot write the container ID file {}: {e}",
                file.display()
            )),
        })
}

fn absolute(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .unwrap_or_else(|_| "/".into())
        .join(path)
}

/// Clap's error in one line: its first line, and when that ends in a colon (a list follows,
/// e.g. of missing arguments), the list joined onto it; its suggestions ("a similar argument
/// exists: '--run'", "[possible values: busybox]") kept after it.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let rest: Vec<&str> = lines.take_while(|l| !l.starts_with("Usage:")).collect();
    let (hints, list): (Vec<&str>, Vec<&str>) = rest
        .into_iter()
        .partition(|l| l.starts_with("tip:") || l.starts_with("[possible values:"));
    let mut line = match first.ends_with(':') {
        true => format!("{first} {}", list.join(", ")),
        false => first.to_string(),
    };
    for hint in hints {
        line.push_str("; ");
        line.push_str(hint.strip_prefix("tip: ").unwrap_or(hint));
    }
    line
}

/// Clap's help (printed), or its error in our one line.
fn clap_outcome(e: clap::Error) -> Outcome {
    match e.kind() {
        clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
            let _ = e.print();
            Ok(0)
        }
        _ => {
            let text = e.render().to_string();
            Err(CliError::runtime(format!(
                "{} (see --help)",
                one_line(&text)
            )))
        }
    }
}

/// `--root DIR` (or `--root=DIR`) before everything else: the store's directory for images
/// and volumes, passed on as `MCT_ROOT` to every process we start (as Docker's `--data-root`).
///
/// # Safety
/// Sets an environment variable: only while the process has one thread.
unsafe fn take_root(args: &mut Vec<std::ffi::OsString>) -> Result<(), String> {
    let Some(first) = args.get(1).and_then(|a| a.to_str()).map(str::to_string) else {
        return Ok(());
    };
    let (dir, taken) = if first == "--root" {
        let dir = args.get(2).ok_or("--root needs a directory (see --help)")?;
        (std::path::PathBuf::from(dir), 2)
    } else if let Some(dir) = first.strip_prefix("--root=") {
        (std::path::PathBuf::from(dir), 1)
    } else {
        return Ok(());
    };
    let dir = absolute(dir);
    args.drain(1..1 + taken);
    // SAFETY: our caller guarantees a single thread (see above).
    unsafe { std::env::set_var("MCT_ROOT", dir) };
    Ok(())
}

/// What the dashboard checks of its sessions' template before it opens: root, options that
/// make a valid container, and the template's image in the store (pulled now, its progress
/// on stderr, rather than under the dashboard's screen).
fn dashboard_ready(template: &Run) -> anyhow::Result<()> {
    crate::runtime::require_root().map_err(anyhow::Error::msg)?;
    let Built { mut spec, launch } = template.clone().finish(Vec::new(), &Host::current())?;
    if spec.command.is_empty() {
        spec.command = vec!["/bin/sh".into()];
    }
    spec.validate()?;
    if let Some(request) = &launch.image {
        crate::image::obtain(&crate::image::store::Store::open()?, request)?;
    }
    Ok(())
}

/// Runs the program for the process's arguments and returns its exit code.
pub fn main() -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // SAFETY: first thing in main: the helper and the monitor returned earlier, and no
    // thread of ours exists yet.
    if let Err(e) = unsafe { take_root(&mut args) } {
        return report(Err(CliError::runtime(e)));
    }
    // `exec` joins a container: it runs from a sealed copy of this binary, not dumpable
    // (runtime::sealed), re-executed before anything else is done twice.
    if args.get(1).is_some_and(|a| a == "exec") {
        crate::runtime::sealed::enter();
    }
    // A word first that the run parser has no subcommand for is a verb, or a mistake the
    // verbs' parser names; options first are the run parser's.
    if args.get(1).and_then(|a| a.to_str()).is_some_and(|w| {
        !w.starts_with('-') && w != "help" && Cli::command().find_subcommand(w).is_none()
    }) {
        return verbs::main(args);
    }
    report(parse(args).map_or_else(clap_outcome, act))
}

/// Runs `built` (or with `create`, makes it to start later), as `run` and `create` do.
fn run_built(built: Built, create: bool) -> Outcome {
    if let Some(message) = crate::image::positional::missing_command(&built) {
        return Err(CliError {
            code: crate::runtime::exit::NOT_FOUND,
            message,
        });
    }
    let Built {
        mut spec,
        mut launch,
    } = built;
    if let Some(request) = &launch.image {
        crate::runtime::require_root().map_err(CliError::runtime)?;
        crate::image::prepare(&mut spec, request)
            .map_err(|e| CliError::runtime(format!("{e:#}")))?;
    }
    launch.with_image_defaults(&spec);
    if let Some(file) = &launch.cidfile {
        write_cidfile(file, &spec.id)?;
    }
    // The container's own status (its errors printed by the run, 125-127).
    let code = match (create, launch.detach) {
        (true, _) => headless::create(spec, &launch),
        (false, true) => headless::detached(spec, &launch),
        (false, false) => headless::run(spec, &launch),
    };
    // A detached container that never started leaves nothing, its id file included.
    if let Some(file) = launch
        .cidfile
        .as_ref()
        .filter(|_| launch.detach && code != 0)
    {
        let _ = std::fs::remove_file(file);
    }
    Ok(code)
}

/// Does what the arguments asked.
fn act(action: Action) -> Outcome {
    match action {
        Action::Run(built) => run_built(*built, false),
        Action::Create(built) => run_built(*built, true),
        Action::BusyboxRootfs(dir) => match crate::runtime::busybox::build(&dir) {
            Ok(built) => {
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                println!(
                    "made {}: {} with {} applets; run it with --rootfs {}",
                    dir.display(),
                    built.busybox.display(),
                    built.applets,
                    dir.display()
                );
                Ok(0)
            }
            Err(e) => Err(CliError {
                code: e.exit_code(),
                message: e.to_string(),
            }),
        },
        Action::Dashboard(options, template) => {
            dashboard_ready(&template).map_err(|e| CliError::runtime(format!("{e:#}")))?;
            Ok(tui::run(options, *template))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_of(args: &[&str]) -> Vec<String> {
        match parse(args) {
            Ok(Action::Run(built)) => built.spec.command,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn everything_after_run_is_the_command() {
        assert_eq!(command_of(&["t", "--run", "ls", "-la"]), ["ls", "-la"]);
        assert_eq!(
            command_of(&["t", "--hostname", "h", "--run", "env", "--hostname", "x"]),
            ["env", "--hostname", "x"]
        );
    }

    #[test]
    fn one_word_with_spaces_is_a_shell_line() {
        assert_eq!(
            command_of(&["t", "--run", "ps aux"]),
            ["/bin/sh", "-c", "ps aux"]
        );
    }

    #[test]
    fn run_subcommand_is_an_alias() {
        assert_eq!(
            command_of(&["t", "run", "echo", "Hello World"]),
            ["echo", "Hello World"]
        );
        assert_eq!(command_of(&["t", "run", "ls", "-la"]), ["ls", "-la"]);
        match parse(["t", "--init", "run", "--hostname", "box", "true"]) {
            Ok(Action::Run(built)) => {
                assert!(built.spec.init);
                assert_eq!(built.spec.hostname, "box");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_reach_the_spec() {
        let Ok(Action::Run(built)) = parse([
            "t",
            "-e",
            "A=1",
            "--env",
            "B=2",
            "-w",
            "/tmp",
            "--hostname",
            "web",
            "-T",
            "--run",
            "env",
        ]) else {
            panic!("did not parse");
        };
        let spec = built.spec;
        assert_eq!(spec.env, ["A=1", "B=2"]);
        assert_eq!(spec.workdir, PathBuf::from("/tmp"));
        assert_eq!(spec.hostname, "web");
        assert!(!spec.tty);
    }

    /// A mistyped option or value keeps clap's suggestion in the one line printed.
    #[test]
    fn errors_keep_clap_suggestions() {
        let line = |args: &[&str]| {
            one_line(
                &parse(args.iter().copied())
                    .err()
                    .unwrap()
                    .render()
                    .to_string(),
            )
        };
        let typo = line(&["t", "--memroy", "1m"]);
        assert!(
            typo.contains("a similar argument exists: '--memory'"),
            "{typo}"
        );
        let value = line(&["t", "rootfs", "bosybox", "/tmp/x"]);
        assert!(value.contains("[possible values: busybox]"), "{value}");
        assert!(!value.contains('\n'));
    }

    #[test]
    fn no_command_means_the_dashboard() {
        assert!(matches!(
            parse(["t"]),
            Ok(Action::Dashboard(
                tui::Options {
                    prefix: tui::encode::Prefix('a'),
                    history: 10_000
                },
                _,
            ))
        ));
        let Ok(Action::Dashboard(options, template)) = parse([
            "t",
            "--prefix",
            "C-b",
            "--history",
            "100000",
            "--memory",
            "64m",
        ]) else {
            panic!("not the dashboard");
        };
        assert_eq!(options.prefix, tui::encode::Prefix('b'));
        assert_eq!(options.history, 100_000);
        assert_eq!(
            template.spec.limits.memory,
            Some(64 << 20),
            "options become the sessions' template"
        );
        assert!(parse(["t", "--prefix", "b"]).is_err());
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(parse(["t", "--bogus", "--run", "true"]).is_err());
        assert!(parse(["t", "--run"]).is_err());
        assert!(parse(["t", "-t", "-T", "--run", "true"]).is_err());
    }

    /// README's option table has a row for every run option (one list, held to the other by
    /// this test), and clap knows each row.
    #[test]
    fn readme_lists_every_option() {
        let readme = include_str!("../../README.md");
        let command = command();
        for opt in &OPTIONS {
            let long = opt.long;
            assert!(
                command.get_arguments().any(|a| a.get_long() == Some(long)),
                "clap lacks --{long}"
            );
            // The flag whole, ended by its value's name or the code span's end.
            let short = opt.short.map(|c| format!("-{c}, ")).unwrap_or_default();
            let listed = ["| `", "| `", ", `"]
                .iter()
                .zip([short.as_str(), "", ""])
                .any(|(before, short)| {
                    [" ", "`"]
                        .iter()
                        .any(|after| readme.contains(&format!("{before}{short}--{long}{after}")))
                });
            assert!(listed, "README's option table lacks --{long}");
        }
    }

    /// A value for each row the form offers, as a user would type it.
    fn sample(long: &str) -> &'static str {
        match long {
            "name" => "web",
            "hostname" => "box",
            "rootfs" => "/tmp",
            "image" => "127.0.0.1:5000/alpine:3",
            "network" => "none",
            "publish" => "8080:80",
            "memory" => "64m",
            "cpus" => "0.5",
            "env" => "A=1",
            "volume" => "/srv:/data:ro",
            "workdir" => "/work",
            other => panic!("no sample for --{other}"),
        }
    }

    /// The form and the command line make the same spec from the same input, for every row
    /// the form offers: each alone, and all together.
    #[test]
    fn the_form_and_the_command_line_agree() {
        let host = Host {
            cwd: "/".into(),
            stdin_terminal: true,
            env: vec![("TERM".into(), "xterm-256color".into())],
        };
        let form_for = |fields: &[&str]| -> Built {
            let values: [String; tui::app::FIELDS] = std::array::from_fn(|i| {
                let long = crate::spec::options::FORM[i];
                match fields.contains(&long) {
                    true => sample(long).to_string(),
                    false => String::new(),
                }
            });
            let template = Run::new(String::new());
            tui::app::form_run(&template, &values, 1, &host, &|_| false).expect("the form takes it")
        };
        let cli_for = |fields: &[&str]| -> Built {
            let mut args: Vec<String> = vec!["t".into(), "-t".into()];
            for long in fields
                .iter()
                .filter(|l| **l != crate::spec::options::COMMAND)
            {
                args.push(format!("--{long}"));
                args.push(sample(long).into());
            }
            for (long, default) in [("name", "session-1"), ("hostname", "my-container-1")] {
                if !fields.contains(&long) {
                    args.extend([format!("--{long}"), default.into()]);
                }
            }
            args.extend(["--run".into(), "sh".into()]);
            let Action::Run(built) =
                parse_on(&args, &host, &|_| false).expect("the command line takes it")
            else {
                panic!("{args:?} is no run");
            };
            let mut built = *built;
            built.spec.term = Some("xterm-256color".into());
            built
        };
        let same = |fields: &[&str]| {
            let mut form = form_for(fields);
            let cli = cli_for(fields);
            form.spec.id = cli.spec.id.clone();
            // The form leaves the command to the session (a shell found in its root).
            if form.launch.image.is_none() {
                assert!(form.spec.command.is_empty());
                form.spec.command = cli.spec.command.clone();
            } else if let Some(image) = &mut form.launch.image {
                image.command = vec!["sh".into()];
            }
            assert_eq!(form.spec, cli.spec, "{fields:?}");
            assert_eq!(form.launch.name, cli.launch.name, "{fields:?}");
            assert_eq!(form.launch.image, cli.launch.image, "{fields:?}");
        };
        let rows: Vec<&str> = crate::spec::options::FORM
            .iter()
            .copied()
            .filter(|l| *l != crate::spec::options::COMMAND)
            .collect();
        for row in &rows {
            same(&[row]);
        }
        same(
            &rows
                .iter()
                .copied()
                .filter(|l| *l != "rootfs")
                .collect::<Vec<_>>(),
        );
    }

    /// The dashboard's `--platform` and `--insecure-registry` reach an image typed in the
    /// form (they were dropped there).
    #[test]
    fn the_dashboards_image_options_reach_the_form() {
        let host = Host::default();
        let Ok(Action::Dashboard(_, template)) = parse_on(
            [
                "t",
                "--platform",
                "linux/arm64",
                "--insecure-registry",
                "registry.lan:5000",
            ],
            &host,
            &|_| false,
        ) else {
            panic!("not the dashboard");
        };
        let mut values: [String; tui::app::FIELDS] = Default::default();
        values[tui::ui::form::image_field()] = "registry.lan:5000/app:1".into();
        let built = tui::app::form_run(&template, &values, 1, &host, &|_| false).unwrap();
        let image = built.launch.image.unwrap();
        assert_eq!(image.platform.unwrap().to_string(), "linux/arm64");
        assert_eq!(image.insecure, ["registry.lan:5000"]);
    }

    /// Docker's `run IMAGE CMD` beside the seed's `run CMD`: the first word is the image when
    /// written as a reference or held by the store; `--host` keeps it a host command; with
    /// `--image` and `--run` alone the image's own command runs.
    #[test]
    fn the_first_word_names_an_image_or_a_host_command() {
        let host = Host::default();
        let store = |w: &str| w == "alpine";
        let parsed = |args: &[&str]| match parse_on(args, &host, &store) {
            Ok(Action::Run(built)) => built,
            other => panic!("{args:?}: {other:?}"),
        };
        let image_of = |built: &Built| {
            built
                .launch
                .image
                .as_ref()
                .map(|i| (i.reference.clone(), i.command.clone()))
        };
        let built = parsed(&["t", "run", "alpine", "sh", "-c", "id"]);
        assert_eq!(
            image_of(&built),
            Some(("alpine".into(), vec!["sh".into(), "-c".into(), "id".into()]))
        );
        let built = parsed(&["t", "--run", "127.0.0.1:5000/bb:1"]);
        assert_eq!(
            image_of(&built),
            Some(("127.0.0.1:5000/bb:1".into(), vec![]))
        );
        for (args, command) in [
            (&["t", "run", "ps", "aux"][..], &["ps", "aux"][..]),
            (&["t", "run", "/bin/bash"], &["/bin/bash"]),
            (&["t", "--host", "run", "alpine"], &["alpine"]),
        ] {
            let built = parsed(args);
            assert_eq!(image_of(&built), None, "{args:?}");
            assert_eq!(built.spec.command, command);
        }
        let built = parsed(&["t", "--image", "alpine", "--run"]);
        assert_eq!(image_of(&built), Some(("alpine".into(), vec![])));
        let built = parsed(&["t", "--image", "alpine", "run", "alpine"]);
        assert_eq!(
            image_of(&built),
            Some(("alpine".into(), vec!["alpine".into()]))
        );
        assert!(
            parse_on(
                ["t", "--host", "--image", "alpine", "run", "true"],
                &host,
                &store
            )
            .is_err()
        );
    }

    /// The form's Command field reads its first word as the command line does: an image the
    /// store holds is the image, the rest its command; a host command stays one.
    #[test]
    fn the_forms_command_names_an_image_as_run_does() {
        let host = Host::default();
        let template = Run::new(String::new());
        let store = |w: &str| w == "alpine";
        let form = |command: &str| {
            let mut values: [String; tui::app::FIELDS] = Default::default();
            values[tui::ui::form::field(crate::spec::options::COMMAND)] = command.into();
            tui::app::form_run(&template, &values, 1, &host, &store).unwrap()
        };
        let built = form("alpine sh -c 'echo hi'");
        let image = built.launch.image.unwrap();
        assert_eq!(image.reference, "alpine");
        assert_eq!(image.command, ["sh -c 'echo hi'"]);
        let built = form("alpine");
        assert!(built.launch.image.unwrap().command.is_empty());
        let built = form("ps aux");
        assert!(built.launch.image.is_none());
        assert_eq!(built.spec.command, ["/bin/sh", "-c", "ps aux"]);
    }
}
