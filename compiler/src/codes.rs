//! The registry of every diagnostic code the compiler emits, with a one-line description.
//!
//! Codes are stable: tools and exception files refer to them. Each is written
//! `portcullis::check::<kebab-name>`, except the policy-language parser's own kinds,
//! written `portcullis::parse::<kind>` as the grammar documents them. A code is either about *invalid input* (the input
//! cannot be read as written: exit 2) or a *finding* about input that is valid (exit 1 when
//! at or above the failing level).

use portcullis_syntax::ParseErrorKind;

macro_rules! codes {
    ($($variant:ident = $name:literal, $invalid:literal, $description:literal;)+) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub enum Code {
            $(#[doc = $description] $variant),+
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            /// The kebab-case name without the prefix.
            pub fn short_name(self) -> &'static str {
                match self { $(Code::$variant => $name),+ }
            }

            /// What the code means, in one line.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $description),+ }
            }

            /// Whether an error with this code means the input is invalid (exit 2) rather
            /// than a finding about valid input.
            pub fn is_invalid_input(self) -> bool {
                match self { $(Code::$variant => $invalid),+ }
            }
        }
    };
}

codes! {
    ReadError = "read-error", true, "the input could not be read (missing file, a directory, no permission)";
    BinaryInput = "binary-input", true, "the input is not UTF-8 text or contains NUL bytes";
    SyntaxError = "syntax-error", true, "the text is not well-formed JSON, YAML, keyfile or policy language";
    NotAManifest = "not-a-manifest", true, "the input parses but does not have the shape of a manifest, keyfile or finish-args list";
    UnknownOption = "unknown-option", true, "a finish-args element is not a Flatpak option";
    UnknownValue = "unknown-value", true, "a share, socket, device or feature value Flatpak does not know";
    InvalidFilesystem = "invalid-filesystem", true, "a filesystem token Flatpak refuses";
    InvalidPersist = "invalid-persist", true, "a persist path Flatpak refuses";
    InvalidEnv = "invalid-env", true, "an environment assignment or name Flatpak refuses";
    InvalidBusName = "invalid-bus-name", true, "a D-Bus name or wildcard Flatpak refuses";
    InvalidBusPolicy = "invalid-bus-policy", false, "a bus policy value other than none, see, talk or own (ignored, as Flatpak does)";
    InvalidPolicy = "invalid-policy", true, "an add-policy/remove-policy argument Flatpak refuses";
    InvalidUsbQuery = "invalid-usb-query", true, "a USB query Flatpak refuses";
    InvalidAppId = "invalid-app-id", true, "an application or runtime id that is not a valid reverse-DNS name";
    InvalidValue = "invalid-value", true, "a value of a portcullis extension (limit, port, device node, requirement) that cannot be read";
    NotADeviceNode = "not-a-device-node", true, "a device-node path that cannot be a single character or block device (a directory such as /dev/shm, /dev/pts or /dev/input, a link into /proc, a placeholder)";
    LimitOutOfRange = "limit-out-of-range", true, "a resource limit outside its accepted range (memory 1M to 128T, processes 1 to 4194304, open-files 1 to 1048576, cpu-time 1s to 8760h, cpu-share 1% to 102400%)";
    NulByte = "nul-byte", true, "a value holds a NUL byte, which no path, argument or environment variable can carry";
    PathTooLong = "path-too-long", true, "a path longer than PATH_MAX (4095 bytes) or with a component longer than NAME_MAX (255 bytes): it can never exist";
    DuplicateLimit = "duplicate-limit", true, "a resource limit stated twice in one document (which value holds would be a guess)";
    InvalidInclude = "invalid-include", true, "an include that cannot be resolved, read, or that includes itself";
    FilesystemSuffix = "filesystem-suffix", false, "a filesystem suffix Flatpak ignores with a warning";
    DotDotGap = "dotdot-gap", false, "a `..` that Flatpak 1.14 accepts although it escapes the named directory";
    ReservedPath = "reserved-path", false, "a path Flatpak refuses to export at run time";
    FallbackWithX11 = "fallback-x11-with-x11", false, "x11 together with fallback-x11: fallback-x11 makes x11 ignored";
    GrantAndNegation = "grant-and-negation", false, "a grant and its negation in one document: the last one wins";
    Shadowed = "shadowed-grant", false, "a grant already covered by a broader grant";
    DeviceAllRedundant = "device-all-redundant", false, "device=all makes dri, kvm, input and usb no-ops";
    Duplicate = "duplicate", false, "the same statement twice";
    PersistWithHome = "persist-with-home", false, "persist is ignored when the app has home or host access";
    PerAppDevShmWithShm = "per-app-dev-shm-with-shm", false, "per-app-dev-shm is ignored with device=shm";
    InheritWaylandWithoutWayland = "inherit-wayland-without-wayland", false, "inherit-wayland-socket has no effect without socket=wayland";
    NeedsNetwork = "needs-network", false, "bluetooth or canbus without share=network: the family is allowed but the network namespace is private";
    BusPolicyUnderFullBus = "bus-policy-under-full-bus", false, "name rules are ignored when the whole bus socket is granted";
    NoneUnderWildcard = "none-under-wildcard", false, "no-talk-name cannot subtract a name from a wildcard grant";
    IgnoredGroup = "ignored-group", false, "a keyfile group Flatpak does not read back";
    Deprecated = "deprecated", false, "a deprecated or no-op option";
    NewerFlatpak = "newer-flatpak", false, "a permission that Flatpak 1.14 does not know (added in 1.15 or later)";
    NoCliForm = "no-cli-form", false, "a rule that has no finish-args form (only the keyfile can say it)";
    MissingAppId = "missing-app-id", false, "the input names no application id";
    MaskNeedsLandlock = "mask-needs-landlock", false, "deny masks are held by landlock's filesystem rules: a kernel without landlock refuses the launch, whatever `require landlock` says";
    IoUringWithPortRules = "io-uring-with-port-rules", false, "`allow io-uring` together with port rules: io_uring operations would bypass them";
    NotExpressible = "not-expressible", false, "a portcullis rule Flatpak's forms cannot express, left out of an export";
    ParseUnexpected = "unexpected", true, "policy language: a token that cannot stand where it is";
    ParseMissingValue = "missing-value", true, "policy language: a statement word or `,` with no value after it";
    ParseUnclosedBlock = "unclosed-block", true, "policy language: the file ends inside a `{ … }` block";
    ParseStrayBrace = "stray-brace", true, "policy language: a `}` with no block open";
    ParseUnclosedString = "unclosed-string", true, "policy language: a `\"` not closed on its line";
    ParseBadEscape = "bad-escape", true, "policy language: an unknown escape in a quoted string";
    ParseTooManyValues = "too-many-values", true, "policy language: a one-value header statement given several";
    ParseDuplicate = "duplicate", true, "policy language: a header statement given twice";
    ParseOutsideBlock = "outside-block", true, "policy language: a statement outside the file's block";
    ParseExtraBlock = "extra-block", true, "policy language: a block inside another, or a second block";
    ParseBadPort = "bad-port", true, "policy language: a port that is not 0–65535 or a range of them";
}

impl Code {
    /// The full code, `portcullis::check::<name>` (`portcullis::parse::<kind>` for the
    /// policy-language parser's errors).
    pub fn name(self) -> String {
        self.to_string()
    }

    /// `parse` for the policy-language parser's kinds, `check` for everything else.
    pub fn namespace(self) -> &'static str {
        match self {
            Code::ParseUnexpected
            | Code::ParseMissingValue
            | Code::ParseUnclosedBlock
            | Code::ParseStrayBrace
            | Code::ParseUnclosedString
            | Code::ParseBadEscape
            | Code::ParseTooManyValues
            | Code::ParseDuplicate
            | Code::ParseOutsideBlock
            | Code::ParseExtraBlock
            | Code::ParseBadPort => "parse",
            _ => "check",
        }
    }

    /// The code of a policy-language parse error of this kind.
    pub fn of_parse_error(kind: ParseErrorKind) -> Code {
        match kind {
            ParseErrorKind::Unexpected => Code::ParseUnexpected,
            ParseErrorKind::MissingValue => Code::ParseMissingValue,
            ParseErrorKind::UnclosedBlock => Code::ParseUnclosedBlock,
            ParseErrorKind::StrayBrace => Code::ParseStrayBrace,
            ParseErrorKind::UnclosedString => Code::ParseUnclosedString,
            ParseErrorKind::BadEscape => Code::ParseBadEscape,
            ParseErrorKind::TooManyValues => Code::ParseTooManyValues,
            ParseErrorKind::Duplicate => Code::ParseDuplicate,
            ParseErrorKind::OutsideBlock => Code::ParseOutsideBlock,
            ParseErrorKind::ExtraBlock => Code::ParseExtraBlock,
            ParseErrorKind::BadPort => Code::ParseBadPort,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "portcullis::{}::{}", self.namespace(), self.short_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let name = code.short_name();
            assert!(seen.insert(code.to_string()), "duplicate code {code}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()));
            assert!(!code.description().is_empty());
        }
    }

    #[test]
    fn parse_errors_keep_the_parsers_code() {
        let kinds = [
            ParseErrorKind::Unexpected,
            ParseErrorKind::MissingValue,
            ParseErrorKind::UnclosedBlock,
            ParseErrorKind::StrayBrace,
            ParseErrorKind::UnclosedString,
            ParseErrorKind::BadEscape,
            ParseErrorKind::TooManyValues,
            ParseErrorKind::Duplicate,
            ParseErrorKind::OutsideBlock,
            ParseErrorKind::ExtraBlock,
            ParseErrorKind::BadPort,
        ];
        for kind in kinds {
            let code = Code::of_parse_error(kind);
            assert_eq!(
                code.to_string(),
                format!("portcullis::parse::{}", kind.code())
            );
            assert!(code.is_invalid_input());
        }
        assert_eq!(Code::Duplicate.to_string(), "portcullis::check::duplicate");
    }
}
