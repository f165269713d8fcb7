package schemas

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// SubjectVersion is one version of a subject, as GET
// /subjects/{subject}/versions/{version} returns it.
type SubjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int32  `json:"id"`
	Schema  string `json:"schema"`
}

type schemaBody struct {
	Schema string `json:"schema"`
}

// Register registers an Avro schema under subject (POST
// /subjects/{subject}/versions) and returns its id. Registering a schema that
// is already there returns the existing id. The schema is cached under its
// id. It is safe for concurrent use.
func (c *Client) Register(ctx context.Context, subject, schema string) (int32, error) {
	var out struct {
		ID int32 `json:"id"`
	}
	if err := c.do(ctx, "POST", subjectPath(subject)+"/versions", schemaBody{schema}, &out); err != nil {
		return 0, fmt.Errorf("registering schema under %q: %w", subject, err)
	}
	c.byID.Store(out.ID, schema)
	return out.ID, nil
}

// SchemaByID returns the schema text registered under id (GET
// /schemas/ids/{id}), from the cache when it has been seen before. A missing
// id gives an error matching ErrUnknownSchema; an unreachable registry one
// matching ErrRegistryUnavailable. It is safe for concurrent use.
func (c *Client) SchemaByID(ctx context.Context, id int32) (string, error) {
	if s, ok := c.byID.Load(id); ok {
		return s.(string), nil
	}
	return c.flight.do(ctx, id, func() (string, error) {
		if s, ok := c.byID.Load(id); ok {
			return s.(string), nil
		}
		var out schemaBody
		if err := c.do(ctx, "GET", "/schemas/ids/"+strconv.Itoa(int(id)), nil, &out); err != nil {
			return "", fmt.Errorf("fetching schema %d: %w", id, err)
		}
		c.byID.Store(id, out.Schema)
		return out.Schema, nil
	})
}

// Subjects lists the registry's subjects (GET /subjects). It is safe for
// concurrent use.
func (c *Client) Subjects(ctx context.Context) ([]string, error) {
	var out []string
	if err := c.do(ctx, "GET", "/subjects", nil, &out); err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	return out, nil
}

// Versions lists the version numbers of subject (GET
// /subjects/{subject}/versions). A missing subject gives an error matching
// ErrUnknownSchema. It is safe for concurrent use.
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	var out []int
	if err := c.do(ctx, "GET", subjectPath(subject)+"/versions", nil, &out); err != nil {
		return nil, fmt.Errorf("listing versions of %q: %w", subject, err)
	}
	return out, nil
}

// Version returns one version of subject (GET
// /subjects/{subject}/versions/{version}); version is "latest" or a number.
// A missing subject or version gives an error matching ErrUnknownSchema. The
// schema is cached under its id. It is safe for concurrent use.
func (c *Client) Version(ctx context.Context, subject, version string) (SubjectVersion, error) {
	var out SubjectVersion
	path := subjectPath(subject) + "/versions/" + url.PathEscape(version)
	if err := c.do(ctx, "GET", path, nil, &out); err != nil {
		return SubjectVersion{}, fmt.Errorf("fetching version %s of %q: %w", version, subject, err)
	}
	c.byID.Store(out.ID, out.Schema)
	return out, nil
}
