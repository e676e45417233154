//! Registry credentials in Docker's file, `~/.docker/config.json` (or `$DOCKER_CONFIG`), so
//! `docker login` and `my-container-tui login` share them: `auths.<registry>.auth` is
//! base64 of `user:password`; Docker Hub's key is `https://index.docker.io/v1/`.

use anyhow::{Context, anyhow};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::path::PathBuf;

const HUB_KEY: &str = "https://index.docker.io/v1/";

fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
            PathBuf::from(home).join(".docker/config.json")
        }
    }
}

/// The key of `registry` (as references name it: `docker.io`, `host:port`) in `auths`.
fn key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => HUB_KEY.to_string(),
        other => other.to_string(),
    }
}

fn read() -> anyhow::Result<serde_json::Value> {
    let path = config_path();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write(config: &serde_json::Value) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = config_path();
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::io::Write::write_all(&mut file, serde_json::to_string_pretty(config)?.as_bytes())?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// The user and password stored for `registry`, if any.
pub fn credentials(registry: &str) -> anyhow::Result<Option<(String, String)>> {
    let config = read()?;
    let Some(auth) = config
        .get("auths")
        .and_then(|a| a.get(key(registry)))
        .and_then(|e| e.get("auth"))
        .and_then(|a| a.as_str())
    else {
        return Ok(None);
    };
    let decoded = STANDARD.decode(auth).map_err(|_| {
        anyhow!(
            "the credentials for {registry} in {} are not base64",
            config_path().display()
        )
    })?;
    let text = String::from_utf8(decoded)
        .map_err(|_| anyhow!("the credentials for {registry} are not UTF-8"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("the credentials for {registry} are not user:password"))?;
    Ok(Some((user.to_string(), password.to_string())))
}

/// Stores credentials for `registry`, keeping everything else in the file.
pub fn store(registry: &str, user: &str, password: &str) -> anyhow::Result<()> {
    let mut config = read()?;
    let auth = STANDARD.encode(format!("{user}:{password}"));
    if !config.is_object() {
        config = serde_json::json!({});
    }
    let auths = config
        .as_object_mut()
        .expect("an object")
        .entry("auths")
        .or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths
        .as_object_mut()
        .expect("an object")
        .insert(key(registry), serde_json::json!({ "auth": auth }));
    write(&config)
}

/// Removes the credentials for `registry`; false if there were none.
pub fn remove(registry: &str) -> anyhow::Result<bool> {
    let mut config = read()?;
    let removed = config
        .get_mut("auths")
        .and_then(|a| a.as_object_mut())
        .and_then(|a| a.remove(&key(registry)))
        .is_some();
    if removed {
        write(&config)?;
    }
    Ok(removed)
}

/// The file credentials live in, for messages.
pub fn file() -> PathBuf {
    config_path()
}
