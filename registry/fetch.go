package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Fetch returns a version's metadata and its ONNX bytes, after checking
// them: the registered size and the blob's are within the size cap
// (ErrTooLarge, checked before the blob is read), the blob is there
// (ErrMissingBlob), and its size and sha256 are those registered
// (ErrChecksum). Nothing it returns without an error has to be checked
// again before a session is created.
func (r *Registry) Fetch(ctx context.Context, name, version string) (*Version, []byte, error) {
	v, err := r.Version(ctx, name, version)
	if err != nil {
		return nil, nil, err
	}
	limit := r.cfg.MaxModelBytes
	if v.Size > limit {
		return v, nil, fmt.Errorf("%w: model %s version %s is %d bytes, the cap is %d (max_model_bytes)",
			ErrTooLarge, name, version, v.Size, limit)
	}
	var b []byte
	if v.URI != "" {
		b, err = readURI(v.URI, limit)
	} else {
		b, err = r.readBlob(ctx, name, version, limit)
	}
	if err != nil {
		return v, nil, fmt.Errorf("model %s version %s: %w", name, version, err)
	}
	if int64(len(b)) != v.Size {
		return v, nil, fmt.Errorf("%w: model %s version %s is %d bytes, registered as %d",
			ErrChecksum, name, version, len(b), v.Size)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != v.SHA256 {
		return v, nil, fmt.Errorf("%w: model %s version %s has sha256 %s, registered as %s",
			ErrChecksum, name, version, got, v.SHA256)
	}
	return v, b, nil
}

// readBlob reads a blob kept in Redis, refusing one over limit before
// transferring it.
func (r *Registry) readBlob(ctx context.Context, name, version string, limit int64) ([]byte, error) {
	n, err := r.rdb.StrLen(ctx, blobKey(name, version)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading blob: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s is empty or absent", ErrMissingBlob, blobKey(name, version))
	}
	if n > limit {
		return nil, fmt.Errorf("%w: the stored blob is %d bytes, the cap is %d (max_model_bytes)", ErrTooLarge, n, limit)
	}
	b, err := r.rdb.Get(ctx, blobKey(name, version)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %s is absent", ErrMissingBlob, blobKey(name, version))
	}
	if err != nil {
		return nil, fmt.Errorf("reading blob: %w", err)
	}
	return b, nil
}

// readURI reads a model file named by file:///abs/path or /abs/path, at
// most limit bytes.
func readURI(uri string, limit int64) ([]byte, error) {
	path := uri
	if strings.Contains(uri, "://") {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("registry: model uri %q: %w", uri, err)
		}
		if u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
			return nil, fmt.Errorf("registry: model uri %q: only file:///absolute/path is supported", uri)
		}
		path = u.Path
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("registry: model uri %q: the path must be absolute", uri)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrMissingBlob, path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading model file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, the cap is %d (max_model_bytes)", ErrTooLarge, path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading model file: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is over the cap of %d bytes (max_model_bytes)", ErrTooLarge, path, limit)
	}
	return b, nil
}
