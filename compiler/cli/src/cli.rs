//! The command-line surface, declared with clap. Shapes follow the brief's table exactly.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Check, compile, prove and launch Flatpak-style sandbox policies.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable text.
    Human,
    /// JSON for machines.
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
}

/// Output formats for `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Human-readable text.
    Human,
    /// JSON for machines.
    Json,
    /// Graphviz dot of the risk graph.
    Dot,
}

/// Targets of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportTarget {
    /// A JSON array of finish-args strings.
    FinishArgs,
    /// A Flatpak metadata keyfile.
    Metadata,
}

/// Backends of `emit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Seccomp BPF (raw `struct sock_filter` records; `--text` for a disassembly).
    Seccomp,
    /// The mount plan (JSON; `--text` for a table).
    Mounts,
    /// xdg-dbus-proxy arguments (JSON; `--text` one per line).
    Dbus,
    /// Landlock rules.
    Landlock,
    /// An AppArmor profile.
    Apparmor,
    /// A sh wrapper running the app under stock bubblewrap: mounts, environment, namespaces
    /// and seccomp (`--seccomp`); no Landlock, limits or D-Bus proxy. Emitting writes nothing.
    Bwrap,
}

/// Target architectures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// x86-64.
    #[value(name = "x86_64")]
    X86_64,
    /// 64-bit Arm.
    #[value(name = "aarch64")]
    Aarch64,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, import and check; findings with codes and positions.
    Check(CheckArgs),
    /// A reviewer's report: effective permissions, risks, escape paths with evidence.
    Audit(AuditArgs),
    /// Semantic permission diff, each change classified.
    Diff(DiffArgs),
    /// The IR or a blob in readable form, each item with its origin.
    Explain(ExplainArgs),
    /// Canonical formatting of policy files.
    Fmt(FmtArgs),
    /// A Flatpak manifest or keyfile as policy-language text.
    Import(ImportArgs),
    /// Back to Flatpak's forms.
    Export(ExportArgs),
    /// One backend's artifact.
    Emit(EmitArgs),
    /// The policy blob for the executor.
    Compile(CompileArgs),
    /// Translation validation: the blob's artifacts against the policy's meaning.
    Verify(VerifyArgs),
    /// Compile if needed, then launch through portcullis-exec.
    Run(RunArgs),
    /// Write a new Ed25519 key pair for signing blobs (KEY, mode 0600, and KEY.pub).
    Keygen(KeygenArgs),
    /// A shell completion script on stdout.
    Completions(CompletionsArgs),
    /// Manual pages (roff): portcullis(1) on stdout, or every page into a directory.
    Man(ManArgs),
}

/// Shells of `completions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// bash (install as /usr/share/bash-completion/completions/portcullis).
    Bash,
    /// zsh (install as _portcullis in a `$fpath` directory).
    Zsh,
    /// fish (install as /usr/share/fish/vendor_completions.d/portcullis.fish).
    Fish,
}

/// `completions bash|zsh|fish`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// `man [-o DIR]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write portcullis.1, portcullis-SUBCOMMAND.1 for each subcommand and
    /// portcullis-exec.1 into DIR (each atomically) instead of portcullis.1 on stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// `keygen -o KEY [--comment TEXT]`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The secret key's file (mode 0600); the public key goes to KEY.pub.
    #[arg(short, long, required = true)]
    pub output: PathBuf,
    /// Free text kept with the public key (who it belongs to).
    #[arg(long)]
    pub comment: Option<String>,
}

/// `check INPUT... [--format] [--exceptions FILE]`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files, Flatpak manifests or metadata keyfiles (`-` for stdin).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Exceptions file (Flathub's exceptions.json or the policy-language form).
    #[arg(long)]
    pub exceptions: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, default_value = "error")]
    pub fail_on: String,
}

/// `audit INPUT [--format]`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The policy, manifest or keyfile.
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
}

/// `diff OLD NEW [--format]`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old policy, manifest or keyfile.
    pub old: PathBuf,
    /// The new one.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Lowest risk of an escalation that makes the exit code 1.
    #[arg(long, default_value = "low")]
    pub fail_on: String,
}

/// Output formats for `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Human-readable text.
    Human,
    /// JSON for machines.
    Json,
}

/// `explain INPUT|BLOB [--format human|json]`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A policy, manifest, keyfile, or a compiled blob.
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    pub format: ExplainFormat,
    /// Print JSON instead of text (the same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl ExplainArgs {
    /// Whether JSON was asked for, either way.
    pub fn wants_json(&self) -> bool {
        self.json || self.format == ExplainFormat::Json
    }
}

/// `fmt FILE... [--check]`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Policy files to format in place (`-` formats stdin to stdout).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Report files that are not formatted (exit 1) instead of rewriting them.
    #[arg(long)]
    pub check: bool,
}

/// `import INPUT`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A Flatpak manifest, metadata keyfile or finish-args list.
    pub input: PathBuf,
    /// Write here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `export INPUT --to finish-args|metadata`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The policy, manifest or keyfile.
    pub input: PathBuf,
    /// The target form.
    #[arg(long, value_enum)]
    pub to: ExportTarget,
    /// Write here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `emit INPUT --backend B [--arch] [--text] [-o FILE]`.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The policy, manifest or keyfile.
    pub input: PathBuf,
    /// Which artifact.
    #[arg(long, value_enum)]
    pub backend: Backend,
    /// Target architecture (default: this machine's).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Human-readable text instead of the raw artifact.
    #[arg(long)]
    pub text: bool,
    /// Write here (atomically) instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `compile INPUT -o BLOB [--arch]`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The policy, manifest or keyfile.
    pub input: PathBuf,
    /// Where to write the blob (atomically).
    #[arg(short, long, required = true)]
    pub output: PathBuf,
    /// Target architecture (default: this machine's).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Sign the blob with this secret key (from `portcullis keygen`).
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
}

/// `verify BLOB [--policy INPUT]`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The compiled blob.
    pub blob: PathBuf,
    /// The policy it should mean (default: the policy recorded in the blob).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// A public-key file or directory of *.pub keys that must vouch for the blob
    /// (repeatable); without it the signature is reported, not required.
    #[arg(long, value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// `run INPUT|BLOB|APP_ID[//BRANCH] [--runtime DIR] [--app DIR] [--user|--system|--installation DIR] [--arch ARCH] [-- CMD...]`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A policy, manifest, keyfile, compiled blob, or an installed app `APP_ID[//BRANCH]`.
    pub input: PathBuf,
    /// Installed app: look only in the per-user installation.
    #[arg(long, conflicts_with_all = ["system", "installation"])]
    pub user: bool,
    /// Installed app: look only in the system installation.
    #[arg(long, conflicts_with = "installation")]
    pub system: bool,
    /// Installed app: look only in this installation (a directory, or an id from
    /// installations.d).
    #[arg(long, value_name = "DIR")]
    pub installation: Option<PathBuf>,
    /// Installed app: the architecture (default: this machine's).
    #[arg(long = "arch", value_name = "ARCH")]
    pub app_arch: Option<String>,
    /// The runtime tree mounted at /usr (default: the host's /usr).
    #[arg(long)]
    pub runtime: Option<PathBuf>,
    /// The app tree mounted at /app.
    #[arg(long)]
    pub app: Option<PathBuf>,
    /// Passed to portcullis-exec: a public-key file or directory that must vouch for the
    /// blob (repeatable).
    #[arg(long, value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Sign the blob compiled from a policy input with this secret key before launching.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Have the executor report what it set up and every note (PORTCULLIS_EXEC_REPORT).
    #[arg(short, long)]
    pub verbose: bool,
    /// The command and its arguments (default: an installed app's metadata `command`, or
    /// the policy's own `command`).
    #[arg(last = true)]
    pub command: Vec<String>,
}
