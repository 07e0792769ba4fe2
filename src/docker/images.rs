//! Images on the daemon found by label: which image a brand last built.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bollard::query_parameters::ListImagesOptionsBuilder;

use super::{Daemon, fail};
use crate::error::Result;

/// A local image carrying a label.
#[derive(Debug, Clone)]
pub struct LabelledImage {
    pub id: String,
    /// `repo:tag` names, without the `<none>:<none>` of an untagged image.
    pub tags: Vec<String>,
    pub labels: HashMap<String, String>,
    /// When this daemon last tagged it (`docker inspect` .Metadata.LastTagTime).
    pub last_tagged: Option<SystemTime>,
    /// The config's `created` (seconds): fixed for assembled images, so only
    /// the tie-breaker.
    pub created: i64,
}

impl Daemon {
    /// Every image carrying `label` (any value), newest first: by the time
    /// it was last tagged here, then by `created`. Assembled images share
    /// the base's `created`, so that alone cannot tell rebuilds apart.
    pub async fn images_with_label(&self, label: &str) -> Result<Vec<LabelledImage>> {
        let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
        let opts = ListImagesOptionsBuilder::default().filters(&filters).build();
        let images = self.docker.list_images(Some(opts)).await.map_err(|e| fail("listing images", e))?;
        let mut out = Vec::with_capacity(images.len());
        for i in images {
            let last_tagged = match self.docker.inspect_image(&i.id).await {
                Ok(inspect) => inspect.metadata.and_then(|m| m.last_tag_time).and_then(|t| parse_time(&t)),
                // Removed between the list and the inspect: not there any more.
                Err(e) if super::status(&e) == Some(404) => continue,
                Err(e) => return Err(fail(&format!("inspecting image {}", i.id), e)),
            };
            let tags = i.repo_tags.into_iter().filter(|t| t != "<none>:<none>").collect();
            out.push(LabelledImage { id: i.id, tags, labels: i.labels, last_tagged, created: i.created });
        }
        out.sort_by_key(|i| std::cmp::Reverse((i.last_tagged, i.created)));
        Ok(out)
    }
}

/// An RFC 3339 time as the daemon writes it: UTC (`Z`) or with the offset
/// of the daemon's time zone (`+02:00`), up to nanoseconds. (humantime
/// alone would read `14:00+02:00` as 14:00 UTC.)
fn parse_time(s: &str) -> Option<SystemTime> {
    let clock = s.find('T')?;
    let (local, offset) = match s[clock..].rfind(['+', '-']) {
        Some(i) => s.split_at(clock + i),
        None => (s.strip_suffix('Z')?, ""),
    };
    let t = humantime::parse_rfc3339(&format!("{local}Z")).ok()?;
    if offset.is_empty() {
        return Some(t);
    }
    let (h, m) = offset[1..].split_once(':')?;
    let shift = Duration::from_secs(h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60);
    // 14:00+02:00 is 12:00 UTC.
    if offset.starts_with('+') { t.checked_sub(shift) } else { t.checked_add(shift) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_times() {
        let utc = parse_time("2026-05-10T12:00:00.123456789Z").unwrap();
        assert_eq!(parse_time("2026-05-10T14:00:00.123456789+02:00"), Some(utc));
        assert_eq!(parse_time("2026-05-10T09:00:00.123456789-03:00"), Some(utc));
        assert_eq!(parse_time("2026-05-10T12:00:00.123456789+00:00"), Some(utc));
        assert!(parse_time("2026-05-10T12:00:00Z").is_some());
        assert_eq!(parse_time("0001-01-01T00:00:00Z"), None, "never tagged");
    }
}
