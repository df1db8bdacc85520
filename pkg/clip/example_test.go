package clip_test

import (
	"context"
	"fmt"
	"log"

	"github.com/clip-go/clip/pkg/clip"
)

// The examples run on the tiny model trained for the tests
// (testdata/models/tiny-shapes, see its REFERENCE.md). Their outputs are
// onnxruntime's numbers for the same model, not clip's own: the zero-shot
// probabilities and logits from testdata/golden/zeroshot/tiny-shapes.json,
// the text embedding from testdata/golden/ort/tiny-shapes/text_model
// (case b1_len77, normalised), rounded.

const tinyShapes = "../../testdata/models/tiny-shapes"

// Classify an image against labels.
func Example() {
	ctx := context.Background()
	model, err := clip.Open(ctx, tinyShapes, clip.OpenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	labels := []string{
		"red circle", "red square", "red triangle", "red cross",
		"green circle", "green square", "green triangle", "green cross",
		"blue circle", "blue square", "blue triangle", "blue cross",
		"yellow circle", "yellow square", "yellow triangle", "yellow cross",
		"purple circle", "purple square", "purple triangle", "purple cross",
		"orange circle", "orange square", "orange triangle", "orange cross",
	}
	classifier, err := model.NewClassifier(ctx, labels, "a photo of a {}.")
	if err != nil {
		log.Fatal(err)
	}
	img, err := clip.DecodeImageFile("../../testdata/shapes/red-square-1.png")
	if err != nil {
		log.Fatal(err)
	}
	embs, err := model.EmbedImages(ctx, img)
	if err != nil {
		log.Fatal(err)
	}
	scores, err := classifier.Classify(embs[0])
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range scores[:2] {
		fmt.Printf("%s %.3f\n", s.Label, s.Probability)
	}
	// Output:
	// red square 0.945
	// blue square 0.049
}

// Embed texts; embeddings are L2-normalised.
func ExampleModel_EmbedTexts() {
	ctx := context.Background()
	model, err := clip.Open(ctx, tinyShapes, clip.OpenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	embs, err := model.EmbedTexts(ctx, "a photo of a yellow square.")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d dimensions, first four %.4f\n", len(embs[0]), embs[0][:4])
	// Output:
	// 32 dimensions, first four [0.1207 -0.1322 0.0818 -0.0556]
}

// Compare an image with a text: CLIP's logit is the cosine similarity of
// their embeddings times the model's trained logit scale.
func ExampleModel_EmbedImages() {
	ctx := context.Background()
	model, err := clip.Open(ctx, tinyShapes, clip.OpenOptions{Options: clip.Options{Threads: 1}})
	if err != nil {
		log.Fatal(err)
	}
	defer model.Close()

	img, err := clip.DecodeImageFile("../../testdata/shapes/green-square-1.png")
	if err != nil {
		log.Fatal(err)
	}
	images, err := model.EmbedImages(ctx, img)
	if err != nil {
		log.Fatal(err)
	}
	texts, err := model.EmbedTexts(ctx, "a photo of a green square.")
	if err != nil {
		log.Fatal(err)
	}
	var cos float64
	for i := range images[0] {
		cos += float64(images[0][i]) * float64(texts[0][i])
	}
	fmt.Printf("logit %.2f\n", cos*model.LogitScale())
	// Output:
	// logit 15.59
}
