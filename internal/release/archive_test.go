package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"
)

var testEntries = []Entry{
	{Name: "kubectl-secure", Mode: 0o755, Data: bytes.Repeat([]byte("binary "), 1000)},
	{Name: "LICENSE", Mode: 0o644, Data: []byte("license text\n")},
	{Name: "README.md", Mode: 0o644, Data: []byte("# readme\n")},
	{Name: "kubectl_complete-secure", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
}

// The same instant in two time zones: the archive must not depend on the
// zone of the machine that builds it.
var (
	mtimeUTC   = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mtimeLocal = mtimeUTC.In(time.FixedZone("UTC+5:30", 5*3600+1800))
)

// packTwice packs testEntries with the same mtime in two time zones,
// checks both are byte-identical, and returns the archive.
func packTwice(t *testing.T, write func(io.Writer, []Entry, time.Time) error) []byte {
	t.Helper()
	var a, b bytes.Buffer
	if err := write(&a, testEntries, mtimeUTC); err != nil {
		t.Fatal(err)
	}
	if err := write(&b, testEntries, mtimeLocal); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two packings of the same entries differ")
	}
	return a.Bytes()
}

func TestWriteTarGz(t *testing.T) {
	archive := packTwice(t, WriteTarGz)

	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.Comment != "" {
		t.Errorf("gzip header carries name %q, mtime %v, comment %q", zr.Name, zr.ModTime, zr.Comment)
	}
	tr := tar.NewReader(zr)
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if i != len(testEntries) {
				t.Errorf("%d entries, want %d", i, len(testEntries))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(testEntries) {
			t.Fatalf("extra entry %s", hdr.Name)
		}
		want := testEntries[i]
		if hdr.Name != want.Name || hdr.Typeflag != tar.TypeReg || hdr.Mode != int64(want.Mode) {
			t.Errorf("entry %d: %s type %c mode %o, want %s regular %o", i, hdr.Name, hdr.Typeflag, hdr.Mode, want.Name, want.Mode)
		}
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 unnamed", hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname)
		}
		if !hdr.ModTime.Equal(mtimeUTC) {
			t.Errorf("%s: mtime %v, want %v", hdr.Name, hdr.ModTime, mtimeUTC)
		}
		data, _ := io.ReadAll(tr)
		if !bytes.Equal(data, want.Data) {
			t.Errorf("%s: content differs", hdr.Name)
		}
	}
}

func TestWriteZip(t *testing.T) {
	archive := packTwice(t, WriteZip)
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(testEntries) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(testEntries))
	}
	for i, f := range zr.File {
		want := testEntries[i]
		if f.Name != want.Name || f.Mode() != want.Mode {
			t.Errorf("entry %d: %s mode %v, want %s %v", i, f.Name, f.Mode(), want.Name, want.Mode)
		}
		if !f.Modified.Equal(mtimeUTC) {
			t.Errorf("%s: mtime %v, want %v", f.Name, f.Modified, mtimeUTC)
		}
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(data, want.Data) {
			t.Errorf("%s: content differs", f.Name)
		}
	}
}
