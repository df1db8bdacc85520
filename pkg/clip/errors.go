package clip

import (
	"context"
	"errors"
)

// ModelError is a failure of the model or of the engine running it (a graph
// that cannot run on these inputs, an output of the wrong shape), as
// opposed to a problem with one input. It concerns every input, so
// EmbedImages stops at the first one and returns it rather than blaming
// each image; clip's commands exit 4 on it.
type ModelError struct {
	File string // the ONNX file, when known
	Err  error
}

func (e *ModelError) Error() string {
	if e.File == "" {
		return e.Err.Error()
	}
	return e.File + ": " + e.Err.Error()
}

func (e *ModelError) Unwrap() error { return e.Err }

// asModelError returns err as a *ModelError, wrapping it when it is not one
// already; nil and cancellations stay as they are.
func asModelError(file string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if me := (*ModelError)(nil); errors.As(err, &me) {
		return err
	}
	return &ModelError{File: file, Err: err}
}
