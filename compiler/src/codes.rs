//! The registry of every diagnostic code the compiler emits, with a one-line description.
//!
//! Codes are stable: tools and exception files refer to them. Each is written
//! `portcullis::check::<kebab-name>`. A code is either about *invalid input* (the input
//! cannot be read as written: exit 2) or a *finding* about input that is valid (exit 1 when
//! at or above the failing level).

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
}

impl Code {
    /// The full code, `portcullis::check::<name>`.
    pub fn name(self) -> String {
        format!("portcullis::check::{}", self.short_name())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "portcullis::check::{}", self.short_name())
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
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()));
            assert!(!code.description().is_empty());
        }
    }
}
