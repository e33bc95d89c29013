//! Leaving dimensions out of a `why` model before reports are built from it, for channels
//! whose messages must not carry them (`notify: redact:`, e.g. agent ids). A segment that
//! names a redacted dimension is dropped whole; the numbers of nodes are untouched. An
//! action on such a segment keeps its verdict but no longer names the segment.

use super::impact::ImpactReport;
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

/// An `impact` model whose actions name no segment of the dimensions `dims`: such an action's
/// segment reads "a segment" wherever it was written.
pub fn impact_without_dimensions(r: &ImpactReport, dims: &[String]) -> ImpactReport {
    let mut out = r.clone();
    for a in &mut out.actions {
        if !a.dimensions.iter().any(|d| dims.contains(d)) {
            continue;
        }
        let hidden = "a segment";
        a.sentence = a.sentence.replace(&a.segment, hidden);
        for n in &mut a.notes {
            *n = n.replace(&a.segment, hidden);
        }
        a.segment = hidden.to_string();
        a.dimensions.clear();
    }
    out
}
