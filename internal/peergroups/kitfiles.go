package peergroups

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/peergroups/peergroups/internal/links"
)

// Files in a kit: slides, PDFs, handouts as documents. The browser uploads a file
// straight to S3 with a presigned POST form (nothing big passes through the web
// function) to uploads/<id>/<its name>; S3 then sends the browser back with a sealed,
// expiring, single-use token, and the file is checked (its size, its type by its first
// bytes) and kept at its content's address, blobs/<sha256>: a file used by several
// kits is stored once. The kit's document names it (KitFile); a save adds it.

// KitFile is a file in a kit. Its content is the blob at its SHA-256.
type KitFile struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Name  string `json:"name"` // the original file name, made safe for a download
	Type  string `json:"type"` // media type, found by sniffing its content
	Size  int64  `json:"size"`
	Blob  string `json:"blob"` // SHA-256 of the content, hex
	// Alternative is the ID of the section that says the same in HTML; "" for none.
	Alternative string `json:"alternative,omitempty"`
}

// Limits of files.
const (
	MaxKitFileSize = 50 << 20 // bytes a file
	// UploadFormTTL is how long an upload form works (its presigned policy).
	UploadFormTTL = 15 * time.Minute
	// uploadTokenTTL is how long the token S3 sends back works: an upload of 50 MB
	// started just before the form expires may take a while.
	uploadTokenTTL = time.Hour
	// uploadedFileTTL is how long the form that names an uploaded file works.
	uploadedFileTTL = 24 * time.Hour
	// KitFileLinkTTL is how long a download link works.
	KitFileLinkTTL = 10 * time.Minute
	kitFileNameMax = 120
)

// The purposes of the tokens of an upload: the one S3 sends back (once), and the one
// the form that names the file carries.
const (
	uploadPurpose       links.Purpose = "kit-upload"
	uploadedFilePurpose links.Purpose = "kit-file"
)

// KitFileTypes are the types a file may have, by media type, with their names.
var KitFileTypes = map[string]string{
	"application/pdf": "PDF",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "PPTX",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "DOCX",
	"application/vnd.oasis.opendocument.presentation":                           "ODP",
	"application/vnd.oasis.opendocument.text":                                   "ODT",
	"image/png":  "PNG",
	"image/jpeg": "JPEG",
	"text/csv":   "CSV",
	"text/plain": "TXT",
}

// FileTypeName is a file's type in words ("PDF").
func FileTypeName(mediaType string) string {
	if n, ok := KitFileTypes[mediaType]; ok {
		return n
	}
	return mediaType
}

// Errors of an upload, in the words a person reads.
var (
	ErrUploadUsed     = &Error{Kind: KindConflict, Message: "This upload has already been used. Upload the file again."}
	ErrUploadExpired  = &Error{Kind: KindInvalid, Message: "The upload took too long. Upload the file again."}
	ErrUploadNotValid = &Error{Kind: KindInvalid, Message: "The upload could not be checked. Upload the file again."}
)

// UploadForm is what the browser posts to S3: the address and the form's fields, in
// order; the file goes last.
type UploadForm struct {
	URL    string
	Fields [][2]string
}

// UploadedObject is what is found in an upload: its size and, from its content, its
// media type ("" when it is none that is known).
type UploadedObject struct {
	Size int64
	Type string
}

// KitBlobs keeps kits' files in S3.
type KitBlobs interface {
	// UploadForm presigns a POST of one file of 1 to maxSize bytes to a key under
	// prefix (the browser's file name after it), for ttl, that sends the browser to
	// redirect when it is done.
	UploadForm(ctx context.Context, prefix, redirect string, maxSize int64, ttl time.Duration) (UploadForm, error)
	// InspectUpload reads an upload's size and sniffs its type (name helps tell CSV
	// from text); a KindNotFound error when there is no such upload.
	InspectUpload(ctx context.Context, key, name string) (UploadedObject, error)
	// KeepUpload hashes an upload (streaming it), keeps it at its content's address
	// and deletes the upload; it returns the SHA-256, hex.
	KeepUpload(ctx context.Context, key string) (string, error)
	// DeleteUpload deletes an upload.
	DeleteUpload(ctx context.Context, key string) error
	// BlobLink presigns a GET of a blob, downloaded as an attachment named name.
	BlobLink(ctx context.Context, blob, name, mediaType string, ttl time.Duration) (string, error)
}

// UploadStore records that an upload's token has been used (DynamoDB).
type UploadStore interface {
	// UseUpload records the use of the token whose nonce hashes to hash, kept until
	// expires; ErrUploadUsed when it has been used already.
	UseUpload(ctx context.Context, hash string, expires time.Time) error
}

// KitFiles is the files of the rounds' kits: uploads, adding a file to a kit, and
// links that download one. The same people write them as write the kit.
type KitFiles struct {
	*Kits
	Blobs   KitBlobs
	Uploads UploadStore
}

// UploadedFile is an upload that has been checked and kept, waiting to be named and
// added to the kit: Token carries it to the form that does that.
type UploadedFile struct {
	Name, Type, Blob string
	Size             int64
	Token            string
}

// kitPathOf is the address of a kit's pages (CoreKit: /kits/<round>).
func kitPathOf(round int, kit string) string {
	if kit == CoreKit {
		return fmt.Sprintf("/kits/%d", round)
	}
	return fmt.Sprintf("/kits/%d/groups/%s", round, kit) // a group's variant (kitvariants.go)
}

// StartUpload returns the form that uploads a file to a round's kit.
func (k *KitFiles) StartUpload(ctx context.Context, c Caller, round int, kit string) (Kit, UploadForm, error) {
	if !canWriteCore(c) {
		return Kit{}, UploadForm{}, ErrForbidden
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, UploadForm{}, err
	}
	current, err := k.load(ctx, r)
	if err != nil {
		return Kit{}, UploadForm{}, err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return Kit{}, UploadForm{}, fmt.Errorf("upload id: %w", err)
	}
	nonce, err := k.Links.NewNonce()
	if err != nil {
		return Kit{}, UploadForm{}, err
	}
	prefix := "uploads/" + hex.EncodeToString(id) + "/"
	token, err := k.Links.Seal(links.Claims{Purpose: uploadPurpose, Email: c.Email, Subject: uploadSubject(round, kit, prefix), Nonce: nonce}, uploadTokenTTL)
	if err != nil {
		return Kit{}, UploadForm{}, err
	}
	// The token is base64url: it needs no escaping in the query.
	redirect := k.BaseURL + kitPathOf(round, kit) + "/files/uploaded?upload=" + token
	form, err := k.Blobs.UploadForm(ctx, prefix, redirect, MaxKitFileSize, UploadFormTTL)
	if err != nil {
		return Kit{}, UploadForm{}, err
	}
	return current, form, nil
}

func uploadSubject(round int, kit, prefix string) string {
	return strconv.Itoa(round) + " " + kit + " " + prefix
}

// FinishUpload checks the upload S3 sent the browser back from (token is ours, key is
// where S3 says it put the file), once: its size, and its type by its content. A file
// of another type is deleted, with a FieldErrors error on "file" that says which types
// are allowed. The file is kept at its content's address.
func (k *KitFiles) FinishUpload(ctx context.Context, c Caller, round int, kit, token, key string) (UploadedFile, error) {
	if !canWriteCore(c) {
		return UploadedFile{}, ErrForbidden
	}
	claims, err := k.Links.Open(token, uploadPurpose)
	if errors.Is(err, links.ErrExpired) {
		return UploadedFile{}, ErrUploadExpired
	}
	if err != nil || claims.Email != c.Email || claims.Nonce == "" {
		return UploadedFile{}, ErrUploadNotValid
	}
	parts := strings.SplitN(claims.Subject, " ", 3)
	if len(parts) != 3 || parts[0] != strconv.Itoa(round) || parts[1] != kit {
		return UploadedFile{}, ErrUploadNotValid
	}
	prefix := parts[2]
	name, ok := strings.CutPrefix(key, prefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return UploadedFile{}, ErrUploadNotValid
	}
	if err := k.Uploads.UseUpload(ctx, links.HashNonce(claims.Nonce), claims.ExpiresAt()); err != nil {
		return UploadedFile{}, err
	}
	obj, err := k.Blobs.InspectUpload(ctx, key, name)
	if KindOf(err) == KindNotFound {
		return UploadedFile{}, Errorf(KindInvalid, "The file did not arrive. Upload it again.")
	}
	if err != nil {
		return UploadedFile{}, err
	}
	var refused string
	switch {
	case obj.Size == 0:
		refused = "The selected file is empty"
	case obj.Size > MaxKitFileSize:
		refused = fmt.Sprintf("The selected file must be smaller than %d MB", MaxKitFileSize>>20)
	case KitFileTypes[obj.Type] == "":
		refused = "The selected file must be a PDF, PPTX, DOCX, ODP, ODT, PNG, JPEG, CSV or TXT"
	}
	if refused != "" {
		if err := k.Blobs.DeleteUpload(ctx, key); err != nil {
			return UploadedFile{}, err
		}
		return UploadedFile{}, FieldErrors{{Field: "file", Message: refused}}
	}
	blob, err := k.Blobs.KeepUpload(ctx, key)
	if err != nil {
		return UploadedFile{}, err
	}
	f := UploadedFile{Name: SafeFileName(name, obj.Type), Type: obj.Type, Blob: blob, Size: obj.Size}
	f.Token, err = k.Links.Seal(links.Claims{
		Purpose: uploadedFilePurpose, Email: c.Email, Name: f.Name,
		Subject: strings.Join([]string{strconv.Itoa(round), kit, f.Blob, strconv.FormatInt(f.Size, 10), f.Type}, " "),
	}, uploadedFileTTL)
	return f, err
}

// UploadedFile opens the token of a checked upload, for the form that adds it.
func (k *KitFiles) UploadedFile(c Caller, round int, kit, token string) (UploadedFile, error) {
	claims, err := k.Links.Open(token, uploadedFilePurpose)
	if errors.Is(err, links.ErrExpired) {
		return UploadedFile{}, ErrUploadExpired
	}
	if err != nil || claims.Email != c.Email {
		return UploadedFile{}, ErrUploadNotValid
	}
	parts := strings.Split(claims.Subject, " ")
	if len(parts) != 5 || parts[0] != strconv.Itoa(round) || parts[1] != kit || !ValidKitHash(parts[2]) || KitFileTypes[parts[4]] == "" {
		return UploadedFile{}, ErrUploadNotValid
	}
	size, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return UploadedFile{}, ErrUploadNotValid
	}
	return UploadedFile{Name: claims.Name, Blob: parts[2], Size: size, Type: parts[4], Token: token}, nil
}

// AddFile adds an uploaded file (token from FinishUpload) to a round's core kit, with
// its title and the section that is its HTML alternative, as a save over the revision
// the editor started from (merged with others' saves meanwhile, as SaveSection is).
func (k *KitFiles) AddFile(ctx context.Context, c Caller, round int, from, token string, f KitFile, note string) (Kit, error) {
	if !canWriteCore(c) {
		return Kit{}, ErrForbidden
	}
	up, err := k.UploadedFile(c, round, CoreKit, token)
	if err != nil {
		return Kit{}, err
	}
	f = KitFile{Title: normaliseLine(f.Title), Alternative: normaliseLine(f.Alternative), Name: up.Name, Type: up.Type, Size: up.Size, Blob: up.Blob}
	// One ID per upload: the same form sent twice adds the file once.
	sum := sha256.Sum256([]byte(token))
	f.ID = "f-" + hex.EncodeToString(sum[:5])
	note = normaliseLine(note)
	if !ValidKitHash(from) {
		return Kit{}, Errorf(KindInvalid, "The form did not say which revision you started from. Go back, refresh the page, then try again.")
	}
	r, err := k.round(ctx, round)
	if err != nil {
		return Kit{}, err
	}
	base, err := k.doc(ctx, from)
	if err != nil {
		return Kit{}, err
	}
	if err := append(ValidateKitFile(f, base), ValidateChangeNote(note)...).Err(); err != nil {
		return Kit{}, err
	}
	ours := base
	ours.Files = append(slices.Clone(base.Files), f)
	return k.saveKit(ctx, c, r, CoreKit, from, base, ours, note)
}

// FileLink returns a short presigned link that downloads a file of a round's core kit.
func (k *KitFiles) FileLink(ctx context.Context, c Caller, round int, id string) (string, error) {
	kit, err := k.CoreKit(ctx, c, round)
	if err != nil {
		return "", err
	}
	f, ok := kit.Doc.File(id)
	if !ok {
		return "", Errorf(KindNotFound, "There is no such file in the kit.")
	}
	return k.Blobs.BlobLink(ctx, f.Blob, f.Name, f.Type, KitFileLinkTTL)
}

// File returns the file with an ID.
func (d KitDoc) File(id string) (KitFile, bool) {
	for _, f := range d.Files {
		if f.ID == id {
			return f, true
		}
	}
	return KitFile{}, false
}

// FilesWithoutAlternative are the kit's files that have no HTML alternative: each is
// a task left (an attachment alone is not accessible to everyone).
func (d KitDoc) FilesWithoutAlternative() []KitFile {
	var out []KitFile
	for _, f := range d.Files {
		if _, ok := d.Section(f.Alternative); f.Alternative == "" || !ok {
			out = append(out, f)
		}
	}
	return out
}

// ValidateKitFile checks a file's title and HTML alternative against the kit, in the
// order of its form's fields.
func ValidateKitFile(f KitFile, d KitDoc) FieldErrors {
	var errs FieldErrors
	errs.line("title", f.Title, "Title", KitTitleMax, "Enter the file’s title")
	if f.Alternative != "" {
		if _, ok := d.Section(f.Alternative); !ok {
			errs.add("alternative", "Select a section of the kit, or none")
		}
	}
	return errs
}

// SafeFileName is a file's name as it is kept and downloaded: its base name, without
// control characters, quotes or characters that file systems refuse, at most 120
// characters, ending in the extension of its type when it has none.
func SafeFileName(name, mediaType string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), strings.ContainsRune(`"*:<>?|;`, r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	if r := []rune(name); len(r) > kitFileNameMax {
		ext := path.Ext(name)
		if len([]rune(ext)) > 10 {
			ext = ""
		}
		name = string(r[:kitFileNameMax-len([]rune(ext))]) + ext
	}
	if name == "" {
		name = "file"
	}
	if want := extensionOf(mediaType); want != "" && !strings.EqualFold(path.Ext(name), want) && !(want == ".jpg" && strings.EqualFold(path.Ext(name), ".jpeg")) {
		name += want
	}
	return name
}

func extensionOf(mediaType string) string {
	if n := KitFileTypes[mediaType]; n != "" {
		if n == "JPEG" {
			return ".jpg"
		}
		return "." + strings.ToLower(n)
	}
	return ""
}

// mergeFiles merges the files of two revisions made from base, by ID: a file added on
// either side is kept; removed on one side and unchanged on the other, removed; its
// title and HTML alternative by the three-way rule. The order is theirs, then ours'
// additions.
func mergeFiles(base, ours, theirs []KitFile) ([]KitFile, []KitClash) {
	find := func(fs []KitFile, id string) (KitFile, bool) {
		for _, f := range fs {
			if f.ID == id {
				return f, true
			}
		}
		return KitFile{}, false
	}
	var (
		out     []KitFile
		clashes []KitClash
	)
	field := func(id, name, b, o, t string) string {
		v, ok := merge3(b, o, t)
		if !ok {
			clashes = append(clashes, KitClash{Section: id, Field: name, Base: b, Ours: o, Theirs: t})
		}
		return v
	}
	for _, t := range theirs {
		b, inBase := find(base, t.ID)
		o, inOurs := find(ours, t.ID)
		switch {
		case inOurs && inBase:
			t.Title = field(t.ID, "file title", b.Title, o.Title, t.Title)
			t.Alternative = field(t.ID, "file alternative", b.Alternative, o.Alternative, t.Alternative)
			out = append(out, t)
		case inOurs || !inBase: // added on both sides, or by them
			out = append(out, t)
		case t != b: // we removed it, they changed it: keep theirs
			clashes = append(clashes, KitClash{Section: t.ID, Field: "file", Base: b.Title, Theirs: t.Title})
			out = append(out, t)
		}
	}
	for _, o := range ours {
		if _, inTheirs := find(theirs, o.ID); inTheirs {
			continue
		}
		b, inBase := find(base, o.ID)
		switch {
		case !inBase: // added by us
			out = append(out, o)
		case o != b: // they removed it, we changed it
			clashes = append(clashes, KitClash{Section: o.ID, Field: "file", Base: b.Title, Ours: o.Title})
		}
	}
	return out, clashes
}

// FileSizeText is a size in words: "840 KB", "2.3 MB".
func FileSizeText(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < 1000*1000:
		return strconv.FormatInt((n+999)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// SizeText is the file's size in words.
func (f KitFile) SizeText() string { return FileSizeText(f.Size) }

// TypeName is the file's type in words ("PDF").
func (f KitFile) TypeName() string { return FileTypeName(f.Type) }

// SizeText is the file's size in words.
func (f UploadedFile) SizeText() string { return FileSizeText(f.Size) }

// TypeName is the file's type in words ("PDF").
func (f UploadedFile) TypeName() string { return FileTypeName(f.Type) }
