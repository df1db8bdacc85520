package classify

import (
	"bytes"
	"testing"

	"github.com/clip-go/clip/pkg/clip"
)

func rec(file string, label string, scores ...clip.Score) clip.Record {
	p := scores[0].Probability
	return clip.Record{Schema: 1, File: file, Label: label, Probability: &p, Labels: scores}
}

// TestTableOneLayoutByDisplayWidth: columns come from every input name and
// label up front, CJK and emoji count two columns, the layout never changes
// from row to row, and below --threshold the best label stays visible.
func TestTableOneLayoutByDisplayWidth(t *testing.T) {
	var out bytes.Buffer
	w := newRecordWriter("table", &out, []string{"猫", "dog", "🐶 puppy"}, []string{"a.png", "ねこ.png", "long-name.png"}, true)
	for _, r := range []clip.Record{
		rec("a.png", "猫", clip.Score{Label: "猫", Probability: 0.9}, clip.Score{Label: "dog", Probability: 0.1}),
		rec("ねこ.png", "unknown", clip.Score{Label: "🐶 puppy", Probability: 0.5}, clip.Score{Label: "猫", Probability: 0.3}),
		{Schema: 1, File: "long-name.png", Error: "not an image"},
	} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"FILE           LABEL                     PROB   RUNNERS-UP\n" +
		"a.png          猫                        0.900  dog 0.100\n" +
		"ねこ.png       unknown (best: 🐶 puppy)  0.500  猫 0.300\n" +
		"long-name.png  ERROR                            not an image\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestTableTruncatesLongNamesKeepingTheEnd(t *testing.T) {
	long := "photos/" + string(bytes.Repeat([]byte("x"), 70)) + "/cat.jpg"
	if got := truncateLeft(long, 20); got != "…xxxxxxxxxxx/cat.jpg" {
		t.Errorf("truncateLeft = %q", got)
	}
	if got := truncateLeft("写真/猫の写真/cat.jpg", 13); got != "…写真/cat.jpg" {
		t.Errorf("truncateLeft(CJK) = %q", got)
	}
}
