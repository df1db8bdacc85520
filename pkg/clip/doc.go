// Package clip is zero-shot image classification and image/text embedding
// with OpenAI's CLIP, in pure Go, from a Hugging Face (or immich) ONNX
// export.
//
// For Go programs the surface is small:
//
//   - Open loads a model from a directory, a catalogue name or a Hugging
//     Face repository id (downloaded into the model cache on first use);
//   - Model.EmbedImages and Model.EmbedTexts return L2-normalised
//     embeddings in one space;
//   - Model.NewClassifier embeds labels through prompt templates once, and
//     ZeroShot.Classify ranks them for an image embedding (softmax of the
//     logit scale times the cosine similarity, as CLIP does; for SigLIP,
//     whose family Load reads from the model's files, each label's own
//     sigmoid of that plus the logit bias);
//   - an engine failure is a *ModelError, not a problem with an input.
//
// Every call takes a context.Context; a Model is safe for concurrent use and
// holds no global state. EmbedImages (the function) is the streaming
// pipeline the clip command uses for many files: decoding overlaps batched
// inference and results come back in input order. Record, TextCache and the
// rest serve the command line and the HTTP server.
//
// Data flows bytes → pkg/onnx → pkg/graph → pkg/engine → pkg/clip, with
// pkg/tokenizer, pkg/imageproc and pkg/hub beside this package; see
// ARCHITECTURE.md at the repository root.
package clip
