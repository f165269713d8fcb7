package schemas

import "github.com/linkedin/goavro/v2"

// Limits on what one record may make the decoder allocate.
//
// goavro sizes slices and maps from the item counts a record declares before
// it reads the items, so a few hostile bytes could ask for gigabytes. Two
// layers stop that:
//
//   - goavro's package-level MaxBlockCount and MaxBlockSize are lowered in
//     init (they default to 2^31). They are process-wide, so every goavro user
//     in a sluice binary gets them;
//   - before goavro sees a body whose writer schema has arrays, maps or
//     recursion, guard walks it and rejects declared counts that the bytes
//     left cannot hold, nesting deeper than maxDepth, and more than
//     len(body)+maxZeroSizeItems items in all (items such as null take no
//     bytes, so only this budget bounds them).
const (
	// DefaultMaxBytes is the record size limit NewDecoder uses when given
	// maxBytes <= 0.
	DefaultMaxBytes = 1 << 20
	// maxBlockCount is goavro.MaxBlockCount: items in one array or map block.
	maxBlockCount = 1 << 20
	// maxBlockSize is goavro.MaxBlockSize: bytes of one block or bytes value
	// read from a stream (object container files).
	maxBlockSize = 64 << 20
	// maxDepth is how deep records, arrays, maps and unions may nest.
	maxDepth = 64
	// maxZeroSizeItems bounds array and map items beyond one per body byte.
	maxZeroSizeItems = 1 << 16
)

func init() {
	goavro.MaxBlockCount = maxBlockCount
	goavro.MaxBlockSize = maxBlockSize
}
