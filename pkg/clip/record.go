package clip

// SchemaVersion is the version of the per-image record schema shared by
// `clip classify` and `clip serve`. Fields are only ever added within a version.
const SchemaVersion = 1

// UnknownLabel is reported as the label when the best probability is
// below the caller's threshold.
const UnknownLabel = "unknown"

// Record is the result for one image, the unit of clip's machine-readable
// output (json, jsonl, csv, and the REST API).
type Record struct {
	Schema int    `json:"schema"`
	File   string `json:"file"`
	// Label is the best label, or UnknownLabel below the threshold; empty on error.
	Label string `json:"label,omitempty"`
	// Probability is the best label's probability (also when Label is UnknownLabel).
	Probability *float64 `json:"probability,omitempty"`
	// Labels ranks every label (or the top k), best first.
	Labels []Score `json:"labels,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// NewRecord builds the record of a classified image: scores are ranked
// best first; topK ≤ 0 keeps them all; below threshold the label is unknown.
func NewRecord(file string, scores []Score, topK int, threshold float64) Record {
	r := Record{Schema: SchemaVersion, File: file}
	if len(scores) == 0 {
		return r
	}
	p := scores[0].Probability
	r.Probability = &p
	r.Label = scores[0].Label
	if p < threshold {
		r.Label = UnknownLabel
	}
	if topK > 0 && topK < len(scores) {
		scores = scores[:topK]
	}
	r.Labels = scores
	return r
}

// ErrorRecord is the record of an image that could not be classified.
func ErrorRecord(file string, err error) Record {
	return Record{Schema: SchemaVersion, File: file, Error: err.Error()}
}
