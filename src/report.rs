//! The render report: what changed, which rules did it, what was skipped.
//! Written as JSON next to the overlay and summarised on the terminal.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// A base file with new content.
    Changed,
    /// A file the base does not have (favicon.ico).
    Added,
    /// A `.gz`/`.br` sibling regenerated from its changed file.
    Regenerated,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileReport {
    pub path: String,
    pub change: Change,
    pub rules: Vec<String>,
    pub replacements: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleReport {
    pub id: String,
    /// The patch-set file it comes from, without its order prefix (`icons`).
    #[serde(default)]
    pub category: String,
    pub description: String,
    pub files: usize,
    pub replacements: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub rule: String,
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Totals {
    pub files_changed: usize,
    pub files_added: usize,
    pub siblings_regenerated: usize,
    pub replacements: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub tool: String,
    pub brand: String,
    pub brand_name: String,
    pub brand_digest: String,
    pub patchset: String,
    pub patchset_digest: String,
    pub base: String,
    pub partial: bool,
    pub files: Vec<FileReport>,
    pub rules: Vec<RuleReport>,
    pub skipped: Vec<Skipped>,
    pub totals: Totals,
    /// Files changed or added per rule category (`icons`: 52).
    #[serde(default)]
    pub categories: std::collections::BTreeMap<String, usize>,
    /// Content-named files renamed and `?v=` references added (cache-busting).
    #[serde(default, skip_serializing_if = "crate::cachebust::Renames::is_empty")]
    pub cache_busting: crate::cachebust::Renames,
    /// The audit of the result, when a build ran one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::Audit>,
}
