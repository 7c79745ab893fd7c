package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Defaults for Options.
const (
	DefaultMaxFileSize = 128 << 20
	DefaultMaxDepth    = 100
	// DefaultMaxAliasExpansion bounds the nodes produced when aliases are
	// expanded while decoding one object (a "billion laughs" guard).
	DefaultMaxAliasExpansion = 1_000_000
	// StdinName is how standard input is named in findings and errors.
	StdinName = "<stdin>"
)

// Options controls loading.
type Options struct {
	// MaxFileSize rejects larger inputs (bytes); 0 means the default.
	MaxFileSize int64
	// MaxDepth rejects documents nested deeper; 0 means the default.
	MaxDepth int
	// Workers bounds parallel parsing; 0 means GOMAXPROCS.
	Workers int
	// Stdin is read for the path "-".
	Stdin io.Reader
	// BaseDir makes displayed paths relative to it; "" means the working
	// directory.
	BaseDir string
	// Visit, when set, is called for every object of plain files as soon
	// as it is parsed, on the parsing goroutine (so it must be safe for
	// concurrent use). Checking objects here, while their node trees are
	// hot, and releasing them afterwards keeps memory flat on large inputs.
	// LoadBytes and LoadNode do not visit: a renderer sets its objects'
	// locators after loading them, and visits each render's objects when
	// they are complete.
	Visit func(*Object)
}

func (o Options) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (o Options) maxDepth() int {
	if o.MaxDepth > 0 {
		return o.MaxDepth
	}
	return DefaultMaxDepth
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Skipped is a document that is not a Kubernetes object.
type Skipped struct {
	File   string
	Doc    int
	Line   int
	Reason string
}

// Result is what loading produced. Errors do not stop loading: every other
// file and document is still returned.
type Result struct {
	Objects []*Object
	Errors  []finding.InputError
	Skipped []Skipped
	// Files lists the files read, in order.
	Files []string
}

// Merge appends r2 to r.
func (r *Result) Merge(r2 *Result) {
	r.Objects = append(r.Objects, r2.Objects...)
	r.Errors = append(r.Errors, r2.Errors...)
	r.Skipped = append(r.Skipped, r2.Skipped...)
	r.Files = append(r.Files, r2.Files...)
}

// IsManifestFile reports whether a file name has an extension lint reads.
func IsManifestFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// WalkRoot is the root to walk for a directory named on the command line:
// a symbolic link to a directory is followed (with a trailing separator;
// filepath.WalkDir would otherwise visit the link alone), as ls and find
// -H do for the paths they are given. Links met inside are not followed.
func WalkRoot(dir string) string {
	if st, err := os.Lstat(dir); err == nil && st.Mode()&fs.ModeSymlink != 0 && !strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + string(filepath.Separator)
	}
	return dir
}

// ExpandPaths turns arguments (files, directories, "-") into the ordered
// list of files to read. Directories are walked recursively for .yaml, .yml
// and .json files; hidden directories below them are skipped.
func ExpandPaths(args []string) ([]string, []finding.InputError) {
	var files []string
	var errs []finding.InputError
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, a := range args {
		if a == "-" {
			add(a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			errs = append(errs, finding.InputError{File: a, Message: PathErrorMessage(err)})
			continue
		}
		if !st.IsDir() {
			add(a)
			continue
		}
		var found []string
		err = filepath.WalkDir(WalkRoot(a), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, finding.InputError{File: p, Message: PathErrorMessage(err)})
				return nil
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			ok, ierr := WalkedFile(p, d)
			if ierr != nil {
				errs = append(errs, *ierr)
			}
			if ok {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, finding.InputError{File: a, Message: err.Error()})
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return files, errs
}

// WalkedFile decides whether a file met while walking a directory is a
// manifest to read: a regular .yaml/.yml/.json file, or a symbolic link to
// one (links to directories are not followed: no loops). A dangling link
// is an input error.
func WalkedFile(p string, d fs.DirEntry) (bool, *finding.InputError) {
	if !IsManifestFile(p) {
		return false, nil
	}
	if d.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(p)
		if err != nil {
			return false, &finding.InputError{File: p, Message: "broken symbolic link: " + PathErrorMessage(err)}
		}
		return st.Mode().IsRegular(), nil
	}
	return d.Type().IsRegular(), nil
}

// PathErrorMessage returns the cause of a file-system error without the
// operation and path, which the caller names itself ("no such file or
// directory").
func PathErrorMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// DisplayPath returns p relative to base (or the working directory) with
// forward slashes, when it is below it.
func DisplayPath(p, base string) string { return newDisplayer(base).path(p) }

// displayer is DisplayPath with the working directory and base resolved
// once: a run over thousands of files would otherwise ask the system for
// the working directory twice per file.
type displayer struct{ cwd, base string }

func newDisplayer(base string) displayer {
	cwd, _ := os.Getwd()
	d := displayer{cwd: cwd, base: cwd}
	if base != "" {
		d.base = d.abs(base)
	}
	return d
}

// abs is filepath.Abs against the recorded working directory.
func (d displayer) abs(p string) string {
	if filepath.IsAbs(p) || d.cwd == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(d.cwd, p)
}

func (d displayer) path(p string) string {
	if p == "-" {
		return StdinName
	}
	if d.base != "" && (filepath.IsAbs(p) || d.cwd != "") {
		a := d.abs(p)
		if rel, err := filepath.Rel(d.base, a); err == nil && (!strings.HasPrefix(rel, "..") || sharesTop(d.base, a)) {
			// Inside the base, or beside it ("../other/x.yaml" for lint
			// ../other): relative, like the argument that named it.
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(p)
}

// sharesTop reports whether two absolute paths have a common ancestor
// below the file system root (so a relative path between them is
// meaningful; /etc/x seen from /home/u/repo stays absolute).
func sharesTop(a, b string) bool {
	top := func(p string) string {
		p = strings.TrimPrefix(filepath.ToSlash(p), filepath.ToSlash(filepath.VolumeName(p)))
		p = strings.TrimPrefix(p, "/")
		if i := strings.IndexByte(p, '/'); i >= 0 {
			return p[:i]
		}
		return p
	}
	return filepath.VolumeName(a) == filepath.VolumeName(b) && top(a) != "" && top(a) == top(b)
}

// LoadPaths expands args and loads every file, in parallel.
func LoadPaths(args []string, opt Options) *Result {
	files, errs := ExpandPaths(args)
	res := LoadFiles(files, opt)
	res.Errors = append(errs, res.Errors...)
	return res
}

// LoadFiles reads and parses files (already expanded; "-" is stdin).
// Files are read as a stream of documents: each is parsed (and visited) as
// soon as it is cut from its file, so a large file is never held whole.
func LoadFiles(files []string, opt Options) *Result {
	res := &Result{}
	disp := newDisplayer(opt.BaseDir)
	parseStream(opt, res, opt.Visit, func(emit func(docChunk)) {
		for _, f := range files {
			name := disp.path(f)
			res.Files = append(res.Files, name)
			if err := streamFile(f, name, opt, emit); err != nil {
				res.Errors = append(res.Errors, finding.InputError{File: name, Message: err.Error()})
			}
		}
	})
	return res
}

// streamFile cuts one file (or standard input) into documents.
func streamFile(path, name string, opt Options, emit func(docChunk)) error {
	limit := opt.maxFileSize()
	var r io.Reader
	if path == "-" {
		if opt.Stdin == nil {
			return errors.New("no standard input")
		}
		r = opt.Stdin
	} else {
		data, size, ok, err := readSmall(path)
		switch {
		case err != nil:
			return errors.New(PathErrorMessage(err))
		case ok && size > limit:
			return fileTooBig(size, limit)
		case ok:
			return splitOwned(name, data, emit)
		}
		f, err := os.Open(path)
		if err != nil {
			return errors.New(PathErrorMessage(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if st.Size() > limit {
				return fileTooBig(st.Size(), limit)
			}
			return splitText(name, f, st.Size(), emit)
		}
		r = f
	}
	// A pipe's size is known only once it is read: read it whole, so that
	// an oversized one is refused before any of it is linted.
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("input is over the %d-byte limit (--max-file-size)", limit)
	}
	return splitOwned(name, data, emit)
}

func fileTooBig(size, limit int64) error {
	return fmt.Errorf("file is %d bytes, over the %d-byte limit (--max-file-size)", size, limit)
}

// splitOwned refuses binary input, then cuts data — read for this load
// alone, so its documents can be slices of it — into documents.
func splitOwned(name string, data []byte, emit func(docChunk)) error {
	if err := checkText(data); err != nil {
		return err
	}
	splitBytes(name, data, emit)
	return nil
}

// splitText refuses binary input, then cuts text of the given size into
// documents.
func splitText(name string, r io.Reader, size int64, emit func(docChunk)) error {
	// Small inputs (renderer output; files where readSmall has no fast
	// path) get a buffer of their own size: a fixed 64 KiB one each would
	// be most of the garbage of a run over thousands of them.
	br := bufio.NewReaderSize(r, int(min(max(size+1, 16), 64<<10)))
	head, err := br.Peek(8192)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return fmt.Errorf("reading: %w", err)
	}
	if err := checkText(head); err != nil {
		return err
	}
	if err := splitStream(name, br, size, emit); err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	return nil
}

// LoadBytes parses data as the content of file name (already displayed
// form). Renderers use it for their output.
func LoadBytes(name string, data []byte, opt Options) *Result {
	res := &Result{Files: []string{name}}
	if int64(len(data)) > opt.maxFileSize() {
		res.Errors = append(res.Errors, finding.InputError{File: name, Message: fmt.Sprintf("input is %d bytes, over the %d-byte limit (--max-file-size)", len(data), opt.maxFileSize())})
		return res
	}
	parseStream(opt, res, nil, func(emit func(docChunk)) {
		if err := splitText(name, bytes.NewReader(data), int64(len(data)), emit); err != nil {
			res.Errors = append(res.Errors, finding.InputError{File: name, Message: err.Error()})
		}
	})
	return res
}

// SourceDoc is one document of a user's source file, known by its
// identity and parsed again on demand (Parse): a renderer locating fields
// in a file of megabytes of CRDs keeps the text, not every tree.
type SourceDoc struct {
	// Mapping is set when the document is a mapping; Kind, APIVersion
	// and Name are its top-level kind, apiVersion and metadata.name.
	Mapping                bool
	Kind, APIVersion, Name string
	data                   []byte
	startLine              int
}

// Parse returns the document's root node, with lines absolute in its file.
func (d *SourceDoc) Parse() *yaml.Node {
	root, _ := parseDoc(docChunk{data: d.data, startLine: d.startLine})
	return root
}

// SourceDocuments splits a YAML stream into its documents, as loading
// does. Empty and null documents, and documents that do not parse, are
// left out.
func SourceDocuments(data []byte) []SourceDoc {
	var out []SourceDoc
	_ = splitStream("", bufio.NewReader(bytes.NewReader(data)), int64(len(data)), func(c docChunk) {
		root, ok := parseDoc(c)
		if !ok {
			return
		}
		d := SourceDoc{Mapping: root.Kind == yaml.MappingNode, data: c.data, startLine: c.startLine}
		if d.Mapping {
			_, md := MapGet(root, "metadata")
			d.Kind, d.APIVersion, d.Name = strings.Clone(ScalarString(root, "kind")), strings.Clone(ScalarString(root, "apiVersion")), strings.Clone(ScalarString(md, "name"))
		}
		out = append(out, d)
	})
	return out
}

// parseDoc parses one document chunk as loading does (the fast parser
// where it applies, else yaml.v3), lines made absolute; ok is false for an
// empty, null or unparsable document.
func parseDoc(c docChunk) (root *yaml.Node, ok bool) {
	var doc yaml.Node
	if _, fast := fastParseInto(c.data, &doc, nil); !fast {
		doc = yaml.Node{}
		if yaml.Unmarshal(c.data, &doc) != nil {
			return nil, false
		}
	}
	root = Resolve(&doc)
	if root == nil || root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, false
	}
	var dups []finding.InputError
	fixup(&doc, c.startLine-1, 0, DefaultMaxDepth, "", &dups)
	return root, true
}

// LoadNode builds the objects of one document given as a node tree (a
// renderer's output), with the checks loading applies to text: nesting
// depth, duplicate keys, List items. The tree is only read, so it may be
// shared between objects; file names the objects' source.
func LoadNode(file string, doc int, root *yaml.Node, opt Options) *Result {
	res := &Result{}
	if root == nil {
		return res
	}
	p := finishChunk(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}, docChunk{file: file, doc: doc, startLine: 1}, opt, true)
	res.Objects, res.Errors, res.Skipped = p.objects, p.errs, p.skipped
	return res
}

// checkText rejects binary input: NUL bytes or invalid UTF-8 near the start.
func checkText(data []byte) error {
	head := data
	if len(head) > 8192 {
		head = head[:8192]
		// Do not cut a multi-byte rune in half.
		for i := 0; i < 3 && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1]
		}
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head) {
		return errors.New("binary file (not UTF-8 text); not a manifest")
	}
	return nil
}

type docChunk struct {
	file      string
	doc       int // index among the file's documents
	seq       int // index among all documents of the load
	startLine int // 1-based line of the chunk's first byte in file
	data      []byte
}

// splitStream cuts a YAML stream at document markers. YAML forbids a line
// starting with "---" or "..." (followed by blank or end) inside any
// scalar, so a line scan is exact and lets documents parse independently:
// in parallel, and with a syntax error confined to its own document. Each
// chunk gets its own buffer, which nothing else writes to.
func splitStream(file string, r *bufio.Reader, size int64, emit func(docChunk)) error {
	var cur []byte
	if size > 0 && size <= 64<<10 {
		cur = make([]byte, 0, size) // most small files are one document
	}
	doc, startLine, line := 0, 1, 1
	// Lines gather in a scratch buffer reused across documents; each
	// document gets an exact-size copy of its own (the parser's strings
	// share it), so appending lines leaves no grown-out buffers behind.
	var scratch []byte
	if cur == nil {
		scratch = make([]byte, 0, 16<<10)
		cur = scratch
	}
	flush := func() {
		if hasContent(cur) {
			data := cur
			if scratch != nil {
				data = bytes.Clone(cur)
			}
			emit(docChunk{file: file, doc: doc, startLine: startLine, data: data})
			doc++
		}
		if scratch == nil {
			cur = nil
			return
		}
		if cap(cur) > cap(scratch) && cap(cur) <= 4<<20 {
			scratch = cur
		}
		cur = scratch[:0]
	}
	lineStart := true
	for {
		l, err := r.ReadSlice('\n')
		if lineStart && len(l) > 0 {
			switch {
			case isMarker(l, "---"):
				if len(cur) > 0 && !onlyDirectives(cur) {
					flush()
					startLine = line
				}
			case isMarker(l, "..."):
				cur = append(cur, l...)
				for err == bufio.ErrBufferFull {
					l, err = r.ReadSlice('\n')
					cur = append(cur, l...)
				}
				flush()
				startLine = line + 1
				line++
				l = nil
			}
		}
		cur = append(cur, l...)
		lineStart = err != bufio.ErrBufferFull
		if lineStart && len(l) > 0 && l[len(l)-1] == '\n' {
			line++
		}
		switch {
		case err == io.EOF:
			flush()
			return nil
		case err != nil && err != bufio.ErrBufferFull:
			flush()
			return err
		}
	}
}

// splitBytes is splitStream over a buffer the caller hands over (it is
// not modified afterwards): chunks are slices of it, not copies — a run
// over thousands of small files allocates nothing more per file.
// FuzzLoad checks that both cut alike.
func splitBytes(file string, data []byte, emit func(docChunk)) {
	doc, start, startLine, line := 0, 0, 1, 1
	flush := func(end int) {
		if c := data[start:end:end]; hasContent(c) {
			emit(docChunk{file: file, doc: doc, startLine: startLine, data: c})
			doc++
		}
	}
	for i := 0; i < len(data); {
		next := len(data)
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		switch l := data[i:next]; {
		case isMarker(l, "---"):
			if i > start && !onlyDirectives(data[start:i]) {
				flush(i)
				start, startLine = i, line
			}
		case isMarker(l, "..."):
			flush(next)
			start, startLine = next, line+1
		}
		i = next
		line++
	}
	if start < len(data) {
		flush(len(data))
	}
}

// splitDocuments collects splitBytes' chunks.
func splitDocuments(file string, data []byte) []docChunk {
	var out []docChunk
	splitBytes(file, data, func(c docChunk) { out = append(out, c) })
	return out
}

func isMarker(l []byte, m string) bool {
	if !bytes.HasPrefix(l, []byte(m)) {
		return false
	}
	if len(l) == 3 {
		return true
	}
	switch l[3] {
	case ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// trimmedLines calls fn with each line of c, trimmed, until fn returns
// false.
func trimmedLines(c []byte, fn func(t []byte) bool) {
	for len(c) > 0 {
		j := bytes.IndexByte(c, '\n')
		l := c
		if j >= 0 {
			l, c = c[:j], c[j+1:]
		} else {
			c = nil
		}
		if !fn(bytes.TrimSpace(l)) {
			return
		}
	}
}

// hasContent reports whether a chunk holds anything but blanks, comments
// and markers.
func hasContent(c []byte) bool {
	found := false
	trimmedLines(c, func(t []byte) bool {
		// t is trimmed, so a bare marker is exactly "---" or "...".
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) || bytes.Equal(t, []byte("...")) {
			return true
		}
		found = true
		return false
	})
	return found
}

// onlyDirectives reports whether a chunk holds directives (%YAML, %TAG)
// and nothing else but blanks and comments.
func onlyDirectives(c []byte) bool {
	seen, other := false, false
	trimmedLines(c, func(t []byte) bool {
		if len(t) == 0 || t[0] == '#' {
			return true
		}
		if t[0] != '%' {
			other = true
			return false
		}
		seen = true
		return true
	})
	return seen && !other
}

type parsed struct {
	objects []*Object
	errs    []finding.InputError
	skipped []Skipped
	// slab holds the document's nodes when the fast path parsed it.
	slab []yaml.Node
}

// nodeSlabs recycles the node slabs of documents whose tree is released:
// a document holding one object that its visitor froze (Freeze drops the
// node tree once per-object checks are done). Nodes are most of what a run
// allocates; reusing them keeps the collector's work down.
var nodeSlabs = sync.Pool{New: func() any { return new([]yaml.Node) }}

// maxPooledSlab bounds the slabs kept for reuse (in nodes; 16,384 are
// about 2.4 MB): the pool holds a few slabs per worker across collections,
// and the slab of one huge CRD there would outweigh the documents it
// serves.
const maxPooledSlab = 1 << 14

// recycle returns p's slab to the pool when nothing can reach its nodes.
func (p *parsed) recycle() {
	if p.slab == nil || len(p.objects) != 1 || p.objects[0].Node != nil || cap(p.slab) > maxPooledSlab {
		return
	}
	s := p.slab
	p.slab = nil
	nodeSlabs.Put(&s)
}

// parseStream parses the documents produce emits, on parallel workers,
// and adds the results to res in document order. The channel between them
// is short, so reading never runs far ahead of parsing.
func parseStream(opt Options, res *Result, visit func(*Object), produce func(emit func(docChunk))) {
	n := opt.workers()
	work := make(chan docChunk, 2*n)
	var (
		mu  sync.Mutex
		out []parsed
		wg  sync.WaitGroup
	)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				p := parseChunk(c, opt)
				if visit != nil {
					for _, o := range p.objects {
						visit(o)
					}
					p.recycle()
				}
				p.slab = nil
				mu.Lock()
				for len(out) <= c.seq {
					out = append(out, parsed{})
				}
				out[c.seq] = p
				mu.Unlock()
			}
		}()
	}
	seq := 0
	produce(func(c docChunk) {
		c.seq = seq
		seq++
		work <- c
	})
	close(work)
	wg.Wait()
	for _, p := range out {
		res.Objects = append(res.Objects, p.objects...)
		res.Errors = append(res.Errors, p.errs...)
		res.Skipped = append(res.Skipped, p.skipped...)
	}
}

// parserProblems are yaml.v3's parser (not scanner) error messages, whose
// line it reports 0-based.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'": true, "did not find expected ',' or '}'": true,
	"did not find expected '-' indicator": true, "did not find expected <document start>": true,
	"did not find expected <stream-start>": true, "did not find expected key": true,
	"did not find expected node content": true, "found duplicate %TAG directive": true,
	"found duplicate %YAML directive": true, "found incompatible YAML document": true,
	"found undefined tag handle": true,
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseChunk(c docChunk, opt Options) (p parsed) {
	defer func() {
		// The parser is third-party code fed untrusted input: a panic in it
		// must cost one document, not the run.
		if r := recover(); r != nil {
			p = parsed{errs: []finding.InputError{{File: c.file, Line: c.startLine, Message: fmt.Sprintf("cannot parse document %d: internal parser error: %v", c.doc+1, r)}}}
		}
	}()
	var doc yaml.Node
	reuse := nodeSlabs.Get().(*[]yaml.Node)
	slab, fast := fastParseInto(c.data, &doc, *reuse)
	if cap(*reuse) > 0 && (!fast || unsafe.SliceData(slab) != unsafe.SliceData(*reuse)) {
		nodeSlabs.Put(reuse) // not used (too small): keep it for another
	}
	if !fast {
		if err := yaml.Unmarshal(c.data, &doc); err != nil {
			return parsed{errs: []finding.InputError{yamlError(c, err)}}
		}
	}
	defer func() { p.slab = slab }()
	return finishChunk(&doc, c, opt, fast)
}

// finishChunk checks a parsed document and builds its objects. fast is
// set when the tree can hold no aliases.
func finishChunk(doc *yaml.Node, c docChunk, opt Options, fast bool) (p parsed) {
	root := Resolve(doc)
	if root == nil {
		return parsed{}
	}
	off := c.startLine - 1
	var dups []finding.InputError
	if d := fixup(doc, off, 0, opt.maxDepth(), c.file, &dups); d > opt.maxDepth() {
		return parsed{errs: []finding.InputError{{File: c.file, Line: c.startLine, Message: fmt.Sprintf("document %d is nested deeper than %d levels; not a manifest", c.doc+1, opt.maxDepth())}}}
	}
	p.errs = dups
	// Only yaml.v3 resolves aliases (the fast parser takes none).
	if !fast {
		at := 0
		if expandedSize(root, map[*yaml.Node]int{}, 0, &at) > DefaultMaxAliasExpansion {
			p.errs = append(p.errs, finding.InputError{File: c.file, Line: max(at, c.startLine), Message: fmt.Sprintf("document %d: %v; not linted", c.doc+1, ErrAliasBudget)})
			return p
		}
	}
	// A document that is not a Kubernetes object (a .markdownlint.json, a
	// tool's config) is skipped whole: its duplicate keys are not ours to
	// report, and would fail a directory walk with exit 2.
	if root.Kind != yaml.MappingNode {
		p.errs = nil
		p.skipped = append(p.skipped, Skipped{File: c.file, Doc: c.doc, Line: root.Line, Reason: "document is not a mapping"})
		return p
	}
	obj, reason := newObject(root, c.file, c.doc, -1)
	if obj == nil {
		p.errs = nil
		p.skipped = append(p.skipped, Skipped{File: c.file, Doc: c.doc, Line: root.Line, Reason: reason})
		return p
	}
	p.addObject(obj, root, c, 0)
	return p
}

// addObject adds obj, or the items of a List (flattening nested lists).
// Items of a typed list (PodList) may omit apiVersion and kind, as API
// responses do: they are implied by the list.
func (p *parsed) addObject(obj *Object, node *yaml.Node, c docChunk, depth int) {
	_, items := MapGet(node, "items")
	if !strings.HasSuffix(obj.Kind, "List") || items == nil || items.Kind != yaml.SequenceNode || depth > 8 {
		p.objects = append(p.objects, obj)
		return
	}
	implied := ""
	if obj.Kind != "List" {
		implied = strings.TrimSuffix(obj.Kind, "List")
	}
	for i, it := range items.Content {
		it = Resolve(it)
		o, reason := newObject(it, c.file, c.doc, i)
		if o == nil && implied != "" && it != nil && it.Kind == yaml.MappingNode {
			o = impliedObject(it, c, i, obj.APIVersion, implied)
		}
		if o == nil {
			line := obj.Node.Line
			if it != nil {
				line = it.Line
			}
			p.skipped = append(p.skipped, Skipped{File: c.file, Doc: c.doc, Line: line, Reason: fmt.Sprintf("item %d of %s: %s", i, obj.Kind, reason)})
			continue
		}
		p.addObject(o, it, c, depth+1)
	}
}

// impliedObject builds an item of a typed list that omits apiVersion and
// kind.
func impliedObject(n *yaml.Node, c docChunk, item int, apiVersion, kind string) *Object {
	o := &Object{File: c.file, Doc: c.doc, Item: item, Node: n, APIVersion: strings.Clone(ScalarString(n, "apiVersion")), Kind: strings.Clone(ScalarString(n, "kind"))}
	if o.APIVersion == "" {
		o.APIVersion = apiVersion
	}
	if o.Kind == "" {
		o.Kind = kind
	}
	fillMetadata(o, n)
	return o
}

func yamlError(c docChunk, err error) finding.InputError {
	msg := err.Error()
	line := c.startLine
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			// yaml.v3 numbers a parser error's line from 0 (scanner errors
			// from 1): the construct that is not closed starts a line later.
			n++
		}
		// An error at the end of the document (an unclosed bracket) is
		// reported on its last line, not past it.
		last := bytes.Count(bytes.TrimRight(c.data, " \t\r\n"), []byte("\n")) + 1
		line = c.startLine + min(n, last) - 1
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return finding.InputError{File: c.file, Line: line, Message: "YAML syntax error: " + msg}
}

// fixup makes node lines absolute, measures depth and reports duplicate
// mapping keys. It walks Content only (not aliases), so it is linear.
func fixup(n *yaml.Node, off, depth, maxDepth int, file string, dups *[]finding.InputError) int {
	if n == nil {
		return depth
	}
	if off != 0 {
		n.Line += off // (only then: shared trees are never written)
	}
	if depth > maxDepth {
		return depth
	}
	max := depth
	for _, c := range n.Content {
		if d := fixup(c, off, depth+1, maxDepth, file, dups); d > max {
			max = d
			if max > maxDepth {
				return max
			}
		}
	}
	if n.Kind == yaml.MappingNode && len(n.Content) >= 4 {
		checkDuplicateKeys(n, file, dups)
	}
	return max
}

// expandedSize counts the nodes a document has once its aliases are
// expanded (what decoding it would produce), each alias target counted
// once through memo, stopping early past the budget; at is set to the
// line of the alias that crossed it. Any field holding a bomb is caught
// here, not only those a rule decodes.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, depth int, at *int) int {
	if n == nil || depth > 10_000 {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		v, ok := memo[n.Alias]
		if !ok {
			v = expandedSize(n.Alias, memo, depth+1, at)
			memo[n.Alias] = v
		}
		if v > DefaultMaxAliasExpansion && *at == 0 {
			*at = n.Line
		}
		return v
	}
	total := 1
	for _, c := range n.Content {
		total += expandedSize(c, memo, depth+1, at)
		if total > DefaultMaxAliasExpansion {
			if *at == 0 {
				*at = c.Line
			}
			return total
		}
	}
	return total
}

func checkDuplicateKeys(n *yaml.Node, file string, dups *[]finding.InputError) {
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" {
			continue
		}
		if first, ok := seen[k.Value]; ok {
			*dups = append(*dups, finding.InputError{File: file, Line: k.Line, Message: fmt.Sprintf("mapping key %q already defined at line %d (the later value is used)", k.Value, first)})
			continue
		}
		seen[k.Value] = k.Line
	}
}

func newObject(n *yaml.Node, file string, doc, item int) (*Object, string) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, "not a mapping"
	}
	apiVersion := ScalarString(n, "apiVersion")
	kind := ScalarString(n, "kind")
	if apiVersion == "" || kind == "" {
		return nil, "no apiVersion/kind: not a Kubernetes object"
	}
	// Object identity outlives the node tree, which may share one string
	// with the whole document: copy what is kept.
	o := &Object{File: file, Doc: doc, Item: item, Node: n, APIVersion: strings.Clone(apiVersion), Kind: strings.Clone(kind)}
	fillMetadata(o, n)
	return o, ""
}

func fillMetadata(o *Object, n *yaml.Node) {
	if _, md := MapGet(n, "metadata"); md != nil && md.Kind == yaml.MappingNode {
		o.Name = strings.Clone(ScalarString(md, "name"))
		if o.Name == "" {
			if g := ScalarString(md, "generateName"); g != "" {
				o.Name = g + "*"
			}
		}
		o.Namespace = strings.Clone(ScalarString(md, "namespace"))
		o.Labels = stringMap(md, "labels")
		o.Annotations = stringMap(md, "annotations")
	}
}

func stringMap(m *yaml.Node, key string) map[string]string {
	_, v := MapGet(m, key)
	if v == nil || v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		return nil
	}
	out := make(map[string]string, len(v.Content)/2)
	for i := 0; i+1 < len(v.Content); i += 2 {
		val := Resolve(v.Content[i+1])
		if val != nil && val.Kind == yaml.ScalarNode {
			out[strings.Clone(v.Content[i].Value)] = strings.Clone(val.Value)
		}
	}
	return out
}
