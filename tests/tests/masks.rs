//! Deny masks under attack, for real (issue 15, item 4): `filesystem home except …`
//! (`policies/examples/home-minus-secrets.policy`) compiled by the real backends and run
//! by the real executor, as root and as uid 65534, with `/bin/sh` from the host's `/usr`.
//!
//! Each attack is tried inside the sandbox and must fail there, and the host's home is
//! then checked for what it must (not) hold: creating a masked path that does not exist
//! at launch, renaming a directory above a masked path and writing beneath its old name,
//! two launches where the first prepares the second's read of a secret, links and renames
//! of a masked file, and the ordinary work that must still succeed.
//!
//! For comparison, Flatpak has no deny masks: with `--filesystem=home` every one of these
//! "attacks" is ordinary, allowed work there.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use portcullis_backends::bundle::bundle;
use portcullis_blob::Arch;

use crate::defense::{load, policies_dir};
use crate::executor::{As, Stage, NOBODY};

/// Prints `NAME ok` or `NAME denied` for a command; the script's lines are the verdicts.
const TRY: &str = r#"try() { n=$1; shift; if "$@" 2>/dev/null; then echo "$n ok"; else echo "$n denied"; fi; }
H=$HOME
"#;

use portcullis_tests::output::describe as text;

/// The compiled example policy, staged once per test.
fn blob(stage: &Stage) -> PathBuf {
    let (_, policy) = load(&policies_dir().join("examples/home-minus-secrets.policy"));
    let blob = bundle(&policy, Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    stage.write_blob("home-minus-secrets.blob", &blob.encode())
}

/// Gives the whole of `path` to `who`, so that only the sandbox, not file permissions, can
/// refuse what the app tries.
fn give(path: &Path, who: As) {
    if who == As::Caller {
        return;
    }
    let meta = std::fs::symlink_metadata(path).expect("stat");
    if meta.uid() != NOBODY {
        std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).expect("list") {
            give(&entry.expect("entry").path(), who);
        }
    }
}

/// A home with ordinary things in it (and none of the masked paths unless asked).
fn furnish(home: &Path, secrets: bool) {
    for dir in [".config/app", ".local/share/app", "Documents"] {
        std::fs::create_dir_all(home.join(dir)).expect("mkdir");
    }
    std::fs::write(home.join(".config/app/settings"), "old settings\n").expect("write");
    std::fs::write(home.join("Documents/a.txt"), "old a\n").expect("write");
    if secrets {
        std::fs::create_dir_all(home.join(".ssh")).expect("mkdir");
        std::fs::write(home.join(".ssh/id_rsa"), "SECRET-SSH\n").expect("write");
        std::fs::create_dir_all(home.join(".local/share/keyrings")).expect("mkdir");
        std::fs::write(
            home.join(".local/share/keyrings/login.keyring"),
            "SECRET-KEYRING\n",
        )
        .expect("write");
    }
}

/// Runs `script` (after [`TRY`]) with `sh` in the sandbox, as `who`.
fn sh(stage: &Stage, who: As, blob: &Path, script: &str) -> Output {
    let script = format!("{TRY}{script}");
    let out = stage.run(
        who,
        &[blob.to_str().unwrap(), "--", "/bin/sh", "-c", &script],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    out
}

/// The verdict lines of `out`, and a check that each named attempt was denied.
fn assert_denied(out: &Output, names: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in names {
        assert!(
            stdout.lines().any(|l| l == format!("{name} denied")),
            "{name} was not denied:\n{}",
            text(out)
        );
    }
}

fn assert_ok(out: &Output, names: &[&str]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in names {
        assert!(
            stdout.lines().any(|l| l == format!("{name} ok")),
            "{name} failed:\n{}",
            text(out)
        );
    }
}

/// Every path under `home`, relative, sorted (what the host sees after the attack), but
/// the app's own data under `.var`, which the executor creates.
fn tree(home: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            out.push(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if std::fs::symlink_metadata(&path).expect("stat").is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(home, home, &mut out);
    out.retain(|p| p != ".var" && !p.starts_with(".var/"));
    out.sort();
    out
}

#[test]
fn masked_paths_that_do_not_exist_at_launch_cannot_be_created() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, false);
        give(&home, who);
        let out = sh(
            &stage,
            who,
            &blob,
            r##"
try autostart-dir mkdir "$H/.config/autostart"
try autostart-p sh -c 'mkdir -p "$HOME/.config/autostart" && echo "[Desktop Entry]" > "$HOME/.config/autostart/evil.desktop"'
try local-bin-dir mkdir -p "$H/.local/bin"
try local-bin-file sh -c 'printf "#!/bin/sh\n" > "$HOME/.local/bin"'
try local-bin-ls sh -c 'echo evil > "$HOME/.local/bin/ls"'
try systemd sh -c 'mkdir -p "$HOME/.config/systemd/user" && echo evil > "$HOME/.config/systemd/user/evil.service"'
try ssh-fifo mkfifo "$H/.ssh"
try ssh-link ln -s Documents "$H/.ssh"
try password-store mkdir "$H/.password-store"
try keyrings mkdir -p "$H/.local/share/keyrings"
"##,
        );
        assert_denied(
            &out,
            &[
                "autostart-dir",
                "autostart-p",
                "local-bin-dir",
                "local-bin-file",
                "local-bin-ls",
                "systemd",
                "ssh-fifo",
                "ssh-link",
                "password-store",
                "keyrings",
            ],
        );
        for masked in [
            ".config/autostart",
            ".config/systemd",
            ".local/bin",
            ".ssh",
            ".password-store",
            ".local/share/keyrings",
        ] {
            assert!(
                std::fs::symlink_metadata(home.join(masked)).is_err(),
                "{who:?}: {masked} appeared on the host: {:?}",
                tree(&home)
            );
        }
    }
}

#[test]
fn directories_above_a_mask_cannot_be_renamed_to_escape_it() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, false);
        give(&home, who);
        let before = tree(&home);
        let out = sh(
            &stage,
            who,
            &blob,
            r##"
try mv-config mv "$H/.config" "$H/.config.moved"
try mv-config-deep mv "$H/.config" "$H/Documents/config"
try mv-local mv "$H/.local" "$H/x"
try mv-local-share mv "$H/.local/share" "$H/Documents/share"
try rm-local-share rmdir "$H/.local/share/app"
try systemd-after sh -c 'mkdir -p "$HOME/.config/systemd/user" && echo evil > "$HOME/.config/systemd/user/evil.service"'
try bin-after sh -c 'mkdir -p "$HOME/.local/bin" && echo evil > "$HOME/.local/bin/ls"'
try swap-in mv "$H/Documents" "$H/.config/autostart"
"##,
        );
        assert_denied(
            &out,
            &[
                "mv-config",
                "mv-config-deep",
                "mv-local",
                "mv-local-share",
                "systemd-after",
                "bin-after",
                "swap-in",
                "rm-local-share",
            ],
        );
        assert_eq!(tree(&home), before, "{who:?}: the host's home changed");
        assert_eq!(
            std::fs::read_to_string(home.join(".config/app/settings")).unwrap(),
            "old settings\n"
        );
    }
}

#[test]
fn a_first_launch_cannot_prepare_a_second_to_read_a_secret() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, true);
        give(&home, who);
        // The first launch tries to move the secrets, or what holds them, out from under
        // their masks, and to leave links and look-alikes behind.
        let first = sh(
            &stage,
            who,
            &blob,
            r##"
try mv-ssh mv "$H/.ssh" "$H/Documents/ssh"
try mv-local mv "$H/.local" "$H/Documents/local"
try mv-share mv "$H/.local/share" "$H/Documents/share"
try mv-home-entry mv "$H/Documents" "$H/.local/share/keyrings"
try ln-key ln "$H/.ssh/id_rsa" "$H/Documents/key"
try ln-keyring ln "$H/.local/share/keyrings/login.keyring" "$H/Documents/keyring"
try read-key cat "$H/.ssh/id_rsa"
ln -s "$H/.ssh/id_rsa" "$H/Documents/key-link" 2>/dev/null
ln -s "$H/.local/share/keyrings" "$H/Documents/keyrings-link" 2>/dev/null
"##,
        );
        assert_denied(
            &first,
            &[
                "mv-ssh",
                "mv-local",
                "mv-share",
                "mv-home-entry",
                "ln-key",
                "ln-keyring",
                "read-key",
            ],
        );
        // The second launch looks everywhere it can.
        let second = sh(
            &stage,
            who,
            &blob,
            r##"
cat "$H/Documents/key-link" "$H/Documents/keyrings-link/login.keyring" 2>/dev/null
grep -r SECRET "$H" 2>/dev/null
echo done
"##,
        );
        let stdout = String::from_utf8_lossy(&second.stdout);
        assert!(stdout.contains("done"), "{}", text(&second));
        assert!(
            !stdout.contains("SECRET"),
            "{who:?} read a secret: {}",
            text(&second)
        );
        // The secrets are where they were, unchanged.
        assert_eq!(
            std::fs::read_to_string(home.join(".ssh/id_rsa")).unwrap(),
            "SECRET-SSH\n"
        );
        assert_eq!(
            std::fs::read_to_string(home.join(".local/share/keyrings/login.keyring")).unwrap(),
            "SECRET-KEYRING\n"
        );
        for p in ["Documents/key", "Documents/keyring", "Documents/ssh"] {
            assert!(std::fs::symlink_metadata(home.join(p)).is_err(), "{p}");
        }
    }
}

#[test]
fn a_secret_the_host_creates_during_the_run_cannot_be_linked_or_moved_out() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, false);
        give(&home, who);
        // `.ssh` does not exist at launch, so no mount hides it: the host creates it and
        // the key during the run, and only Landlock stands in the way. The app waits for a
        // sign on a path it can read, then tries.
        let writer = {
            let home = home.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(500));
                std::fs::create_dir(home.join(".ssh")).expect("mkdir");
                std::fs::write(home.join(".ssh/id_rsa"), "SECRET-LATE\n").expect("write");
                give(&home.join(".ssh"), who);
                std::fs::write(home.join("Documents/ready"), "").expect("write");
            })
        };
        let out = sh(
            &stage,
            who,
            &blob,
            r##"
i=0; while [ ! -e "$H/Documents/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
try ready test -e "$H/Documents/ready"
try see-key test -e "$H/.ssh/id_rsa"
try read-key cat "$H/.ssh/id_rsa"
try ln-key ln "$H/.ssh/id_rsa" "$H/Documents/key"
try mv-key mv "$H/.ssh/id_rsa" "$H/Documents/key"
try cp-key cp "$H/.ssh/id_rsa" "$H/Documents/key"
"##,
        );
        writer.join().expect("host writer");
        // The names are visible (read-dir is inherited beneath, as documented); the key is
        // not.
        assert_ok(&out, &["ready", "see-key"]);
        assert_denied(&out, &["read-key", "ln-key", "mv-key", "cp-key"]);
        assert!(std::fs::symlink_metadata(home.join("Documents/key")).is_err());
        assert_eq!(
            std::fs::read_to_string(home.join(".ssh/id_rsa")).unwrap(),
            "SECRET-LATE\n"
        );
    }
}

#[test]
fn the_ordinary_work_deep_in_the_grant_still_works() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, true);
        std::fs::write(home.join("notes.txt"), "old notes\n").expect("write");
        give(&home, who);
        let out = sh(
            &stage,
            who,
            &blob,
            r##"
try read-a cat "$H/Documents/a.txt"
try write-a sh -c 'echo new a > "$HOME/Documents/a.txt"'
try create-b sh -c 'echo b > "$HOME/Documents/b.txt"'
try rename-b mv "$H/Documents/b.txt" "$H/Documents/c.txt"
try settings sh -c 'echo new settings > "$HOME/.config/app/settings"'
try app-dir mkdir -p "$H/.config/app/cache/deep"
try data-dir mkdir "$H/.local/share/app/db"
try notes-in-place sh -c 'echo new notes > "$HOME/notes.txt"'
try list-home sh -c 'ls -A "$HOME" | grep -qx Documents'
try new-in-home sh -c 'echo x > "$HOME/new.txt"'
"##,
        );
        assert_ok(
            &out,
            &[
                "read-a",
                "write-a",
                "create-b",
                "rename-b",
                "settings",
                "app-dir",
                "data-dir",
                "notes-in-place",
                "list-home",
            ],
        );
        // The documented price of holding `~/.ssh`: nothing new directly in `~`.
        assert_denied(&out, &["new-in-home"]);
        let read = |p: &str| std::fs::read_to_string(home.join(p)).unwrap();
        assert_eq!(read("Documents/a.txt"), "new a\n");
        assert_eq!(read("Documents/c.txt"), "b\n");
        assert_eq!(read(".config/app/settings"), "new settings\n");
        assert_eq!(read("notes.txt"), "new notes\n");
        assert!(home.join(".config/app/cache/deep").is_dir());
        assert!(home.join(".local/share/app/db").is_dir());
        assert!(!home.join("new.txt").exists());
    }
}

/// A link planted between launches never redirects a bind of the next one (found by the
/// adversarial review after the masks held): launch 1 replaces `~/.cache/fontconfig` —
/// which every launch binds read-only at `/run/host/user-fonts-cache` — and
/// `~/.local/share/icons` with links to the masked `~/.ssh` and to a host directory
/// outside every grant; launch 2 must read neither through those binds. Bind sources below
/// the home directory (and the runtime directory, `/tmp`, …) are walked without following
/// links; such a source is skipped with a note. Flatpak follows them.
#[test]
fn a_link_planted_between_launches_never_redirects_a_bind() {
    let Some(stage) = Stage::new() else { return };
    let blob = blob(&stage);
    let outside = stage.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("shadow"), "SECRET-HOST\n").expect("write");
    std::fs::set_permissions(
        &outside,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        furnish(&home, true);
        std::fs::create_dir_all(home.join(".cache/fontconfig")).expect("mkdir");
        std::fs::create_dir_all(home.join(".local/share/icons")).expect("mkdir");
        give(&home, who);
        let plant = format!(
            "rm -rf ~/.cache/fontconfig ~/.local/share/icons\n\
             try plant-fonts ln -s \"$H/.ssh\" \"$H/.cache/fontconfig\"\n\
             try plant-icons ln -s {} \"$H/.local/share/icons\"\n",
            outside.display()
        );
        let out = sh(&stage, who, &blob, &plant);
        assert_ok(&out, &["plant-fonts", "plant-icons"]);
        let read = "try fonts-secret cat /run/host/user-fonts-cache/id_rsa\n\
                    try icons-secret cat /run/host/user-share/icons/shadow\n";
        let out = sh(&stage, who, &blob, read);
        assert_denied(&out, &["fonts-secret", "icons-secret"]);
        let all = text(&out);
        assert!(!all.contains("SECRET-"), "{who:?}: {all}");
        assert!(
            all.contains("skipped: a symbolic link is in the way"),
            "{who:?}: {all}"
        );
        let _ = std::fs::remove_file(home.join(".cache/fontconfig"));
        let _ = std::fs::remove_file(home.join(".local/share/icons"));
    }
}

/// Flatpak's installation data stays hidden whatever grant covers it (adversarial review,
/// round 2): an app granted only `xdg-data` wrote `~/.local/share/flatpak/overrides/ID`
/// with `filesystems=host;`, which `portcullis run APP_ID` and `flatpak run` read on the
/// next launch. `${XDG_DATA_HOME}` may contain it, so it is covered by an empty tmpfs.
#[test]
fn an_app_cannot_write_its_own_flatpak_override() {
    let Some(stage) = Stage::new() else { return };
    let file = stage.dir.path().join("xdg-data.policy");
    std::fs::write(
        &file,
        "app org.test.XdgData {\n    filesystem xdg-data\n}\n",
    )
    .unwrap();
    let (_, policy) = load(&file);
    let blob = bundle(&policy, Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    let blob = stage.write_blob("xdg-data.blob", &blob.encode());
    for who in [As::Caller, As::Nobody] {
        let home = stage.home(who);
        let overrides = home.join(".local/share/flatpak/overrides");
        std::fs::create_dir_all(&overrides).expect("mkdir");
        std::fs::create_dir_all(home.join(".local/share/app")).expect("mkdir");
        give(&home, who);
        let out = sh(
            &stage,
            who,
            &blob,
            "printf '[Context]\\nfilesystems=host;\\n' > /tmp/override\n\
             try override cp /tmp/override \"$H/.local/share/flatpak/overrides/org.test.XdgData\"\n\
             try data-write cp /tmp/override \"$H/.local/share/app/file\"\n",
        );
        assert_denied(&out, &["override"]);
        assert_ok(&out, &["data-write"]);
        assert!(
            !overrides.join("org.test.XdgData").exists(),
            "{who:?}: the override reached the host"
        );
    }
}
