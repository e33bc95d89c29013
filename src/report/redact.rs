//! Leaving dimensions out of a `why` model before reports are built from it, for channels
//! whose messages must not carry them (`notify: redact:`, e.g. agent ids). A segment that
//! names a redacted dimension is dropped whole; the numbers of nodes are untouched.

use super::why::WhyReport;

/// The model without any segment of the dimensions in `dims`.
pub fn without_dimensions(w: &WhyReport, dims: &[String]) -> WhyReport {
    let mut w = w.clone();
    if dims.is_empty() {
        return w;
    }
    for n in &mut w.nodes {
        if let Some(s) = &mut n.segments {
            s.dimensions.retain(|d| !dims.contains(&d.dimension));
            s.insights
                .retain(|i| !i.parts.iter().any(|p| dims.contains(&p.dimension)));
        }
    }
    w
}
