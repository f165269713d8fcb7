package schemas

import (
	"errors"
	"fmt"
)

var errTruncated = errors.New("body ends inside a value")

// guard walks an Avro body with its writer schema before goavro decodes it,
// and fails on anything that could make goavro allocate much more than the
// body's size: declared item counts the remaining bytes cannot hold, nesting
// deeper than maxDepth, more than len(body)+maxZeroSizeItems items in all.
// It also fails on trailing bytes. It allocates nothing.
type guard struct {
	buf    []byte
	pos    int
	budget int
}

func guardBody(root *node, body []byte) error {
	g := guard{buf: body, budget: len(body) + maxZeroSizeItems}
	if err := g.walk(root, 0); err != nil {
		return fmt.Errorf("at byte %d: %w", g.pos, err)
	}
	if g.pos != len(body) {
		return fmt.Errorf("%d trailing bytes after the record", len(body)-g.pos)
	}
	return nil
}

func (g *guard) varint() (int64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if g.pos >= len(g.buf) {
			return 0, errTruncated
		}
		b := g.buf[g.pos]
		g.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(v>>1) ^ -int64(v&1), nil
		}
	}
	return 0, errors.New("varint longer than 10 bytes")
}

func (g *guard) skip(n int64) error {
	if n < 0 || n > int64(len(g.buf)-g.pos) {
		return errTruncated
	}
	g.pos += int(n)
	return nil
}

func (g *guard) walk(n *node, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("values nested deeper than %d", maxDepth)
	}
	switch n.kind {
	case kNull:
		return nil
	case kBoolean:
		return g.skip(1)
	case kInt, kLong:
		_, err := g.varint()
		return err
	case kFloat:
		return g.skip(4)
	case kDouble:
		return g.skip(8)
	case kFixed:
		return g.skip(int64(n.size))
	case kBytes, kString:
		size, err := g.varint()
		if err != nil {
			return err
		}
		return g.skip(size)
	case kEnum:
		i, err := g.varint()
		if err == nil && (i < 0 || i >= int64(len(n.symbols))) {
			err = fmt.Errorf("enum index %d out of range", i)
		}
		return err
	case kUnion:
		i, err := g.varint()
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(n.branches)) {
			return fmt.Errorf("union index %d out of range", i)
		}
		return g.walk(n.branches[i], depth+1)
	case kRecord:
		for _, f := range n.fields {
			if err := g.walk(f.node, depth+1); err != nil {
				return err
			}
		}
		return nil
	case kArray, kMap:
		return g.blocks(n, depth)
	}
	return fmt.Errorf("unknown schema kind %d", n.kind)
}

func (g *guard) blocks(n *node, depth int) error {
	least := int64(n.items.minSize)
	if n.kind == kMap {
		least++ // the key's length
	}
	for {
		count, err := g.varint()
		if err != nil {
			return err
		}
		if count == 0 {
			return nil
		}
		if count < 0 {
			count = -count
			if count < 0 { // math.MinInt64
				return errors.New("bad block count")
			}
			if _, err := g.varint(); err != nil { // block size in bytes
				return err
			}
		}
		if count > maxBlockCount || count > int64(g.budget) {
			return fmt.Errorf("block declares %d items, more than the limit", count)
		}
		if count*least > int64(len(g.buf)-g.pos) {
			return fmt.Errorf("block declares %d items, more than the %d bytes left hold", count, len(g.buf)-g.pos)
		}
		g.budget -= int(count)
		for range count {
			if n.kind == kMap {
				if err := g.walk(&stringNode, depth+1); err != nil {
					return err
				}
			}
			if err := g.walk(n.items, depth+1); err != nil {
				return err
			}
		}
	}
}

var stringNode = node{kind: kString, minSize: 1, nullable: -1}
