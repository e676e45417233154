//! What a container of a Kubernetes pod is, read from the annotations containerd's CRI plugin
//! gives every container it creates: which pod (its sandbox's id, name and namespace), and
//! whether it is the pod's sandbox (the pause container whose namespaces the others join)
//! or one of its containers, by name.
//!
//! Annotations are written by whoever wrote the bundle's config: a name is shown, never
//! trusted for anything else (the dashboard escapes what it prints).

use std::collections::HashMap;

const CONTAINER_TYPE: &str = "io.kubernetes.cri.container-type";
const SANDBOX_ID: &str = "io.kubernetes.cri.sandbox-id";
const SANDBOX_NAME: &str = "io.kubernetes.cri.sandbox-name";
const SANDBOX_NAMESPACE: &str = "io.kubernetes.cri.sandbox-namespace";
const CONTAINER_NAME: &str = "io.kubernetes.cri.container-name";
const IMAGE_NAME: &str = "io.kubernetes.cri.image-name";

/// A container's place in its pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodMember {
    /// The sandbox's container id: what every member of the pod shares.
    pub sandbox: String,
    /// The pod's name and Kubernetes namespace.
    pub pod: String,
    pub namespace: String,
    /// `None` for the sandbox itself; the container's name in the pod spec otherwise.
    pub container: Option<String>,
    /// The image the kubelet asked for, when the CRI says it.
    pub image: Option<String>,
}

impl PodMember {
    /// The pod this container belongs to, if the CRI made it.
    pub fn of(annotations: &HashMap<String, String>) -> Option<PodMember> {
        let get = |key| annotations.get(key).filter(|v| !v.is_empty()).cloned();
        let sandbox = get(SANDBOX_ID)?;
        let container = match annotations.get(CONTAINER_TYPE)?.as_str() {
            "sandbox" => None,
            "container" => Some(get(CONTAINER_NAME).unwrap_or_else(|| "?".into())),
            _ => return None,
        };
        Some(PodMember {
            sandbox,
            pod: get(SANDBOX_NAME).unwrap_or_else(|| "?".into()),
            namespace: get(SANDBOX_NAMESPACE).unwrap_or_default(),
            container,
            image: get(IMAGE_NAME),
        })
    }

    /// The name a dashboard lists it by: the pod's for its sandbox, `POD/CONTAINER` for the
    /// rest, so that a pod's members read as one group. Escaped, as all that follows: it is
    /// printed.
    pub fn name(&self) -> String {
        let name = match &self.container {
            None => self.pod.clone(),
            Some(c) => format!("{}/{c}", self.pod),
        };
        crate::printable::escaped(&name).into_owned()
    }

    /// What a dashboard's IMAGE column shows: the image the kubelet asked for, or
    /// `(pod sandbox)`; `None` when the CRI did not say (the bundle's root is shown).
    pub fn image_shown(&self) -> Option<String> {
        match (&self.container, &self.image) {
            (None, _) => Some("(pod sandbox)".into()),
            (Some(_), image) => image
                .as_deref()
                .map(|i| crate::printable::escaped(i).into_owned()),
        }
    }

    /// What it is, in a sentence's start: `The sandbox of Kubernetes pod NS/NAME ...`.
    pub fn described(&self) -> String {
        let what = match self.container {
            None => format!(
                "The sandbox of Kubernetes pod {}/{} (the namespaces its containers join)",
                self.namespace, self.pod
            ),
            Some(_) => format!(
                "A container of Kubernetes pod {}/{}",
                self.namespace, self.pod
            ),
        };
        crate::printable::escaped(&what).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_sandbox_and_a_container_of_one_pod() {
        let sandbox = PodMember::of(&annotations(&[
            (CONTAINER_TYPE, "sandbox"),
            (SANDBOX_ID, "abc"),
            (SANDBOX_NAME, "web-1"),
            (SANDBOX_NAMESPACE, "default"),
        ]))
        .unwrap();
        assert_eq!(sandbox.container, None);
        assert_eq!(sandbox.name(), "web-1");
        let member = PodMember::of(&annotations(&[
            (CONTAINER_TYPE, "container"),
            (SANDBOX_ID, "abc"),
            (SANDBOX_NAME, "web-1"),
            (CONTAINER_NAME, "nginx"),
            (IMAGE_NAME, "docker.io/library/nginx:1"),
        ]))
        .unwrap();
        assert_eq!(member.sandbox, sandbox.sandbox);
        assert_eq!(member.name(), "web-1/nginx");
        assert_eq!(
            member.image_shown().as_deref(),
            Some("docker.io/library/nginx:1")
        );
        assert_eq!(sandbox.image_shown().as_deref(), Some("(pod sandbox)"));
    }

    #[test]
    fn a_name_with_terminal_escapes_is_shown_escaped() {
        let member = PodMember::of(&annotations(&[
            (CONTAINER_TYPE, "container"),
            (SANDBOX_ID, "abc"),
            (SANDBOX_NAME, "pod\x1b]0;pwned\x07"),
            (CONTAINER_NAME, "c\r\n"),
        ]))
        .unwrap();
        for shown in [member.name(), member.described()] {
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
        }
        assert!(member.name().starts_with("pod"), "{:?}", member.name());
    }

    #[test]
    fn containers_the_cri_did_not_make_are_in_no_pod() {
        assert_eq!(PodMember::of(&HashMap::new()), None);
        // A type the CRI does not write, or no sandbox: not a pod's.
        let odd = annotations(&[(CONTAINER_TYPE, "other"), (SANDBOX_ID, "abc")]);
        assert_eq!(PodMember::of(&odd), None);
        let no_sandbox = annotations(&[(CONTAINER_TYPE, "sandbox"), (SANDBOX_ID, "")]);
        assert_eq!(PodMember::of(&no_sandbox), None);
    }
}
