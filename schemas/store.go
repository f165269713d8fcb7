package schemas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// keyPrefix starts every Redis key of the embedded registry. The hash tag
// {schemas} keeps all of them in one Redis Cluster slot, so the
// registration script may touch them together.
const keyPrefix = "sluice:registry:{schemas}:"

var (
	keyNextID        = keyPrefix + "next_id"        // string: last id handed out (INCR)
	keySchemas       = keyPrefix + "schemas"        // hash: id → canonical schema text
	keyFingerprints  = keyPrefix + "fingerprints"   // hash: sha256(canonical) → id
	keySubjects      = keyPrefix + "subjects"       // set of subject names
	keyGlobalConfig  = keyPrefix + "config"         // string: global compatibility level
	keySubjectConfig = keyPrefix + "subject_config" // hash: subject → compatibility level
	keyGlobalMode    = keyPrefix + "mode"           // string: global mode
	keySubjectMode   = keyPrefix + "subject_mode"   // hash: subject → mode
)

// keyVersions is the list of schema ids of a subject; version n is element n-1.
func keyVersions(subject string) string { return keyPrefix + "versions:" + subject }

// store is the embedded registry's state in Redis.
type store struct{ rdb redis.UniversalClient }

func fingerprint(canon string) string {
	sum := sha256.Sum256([]byte(canon))
	return hex.EncodeToString(sum[:])
}

// registerScript adds a schema under a subject atomically. It returns {id,
// version} of the schema under the subject (an existing one when the schema
// is already there), or {0, 0} when the subject no longer has ARGV[4]
// versions, because someone registered meanwhile and the compatibility check
// must run again. The same canonical text always gets the same id, across
// subjects too.
var registerScript = redis.NewScript(`
local id = redis.call('HGET', KEYS[2], ARGV[2])
if id then
  local ids = redis.call('LRANGE', KEYS[4], 0, -1)
  for i = 1, #ids do
    if ids[i] == id then return {tonumber(id), i} end
  end
end
if redis.call('LLEN', KEYS[4]) ~= tonumber(ARGV[4]) then return {0, 0} end
if not id then
  id = tostring(redis.call('INCR', KEYS[1]))
  redis.call('HSET', KEYS[2], ARGV[2], id)
  redis.call('HSET', KEYS[3], id, ARGV[1])
end
local n = redis.call('RPUSH', KEYS[4], id)
redis.call('SADD', KEYS[5], ARGV[3])
return {tonumber(id), n}
`)

// register runs registerScript; conflict means the subject changed since the
// caller read expectVersions versions of it.
func (s *store) register(ctx context.Context, subject, canon string, expectVersions int) (id int64, version int, conflict bool, err error) {
	keys := []string{keyNextID, keyFingerprints, keySchemas, keyVersions(subject), keySubjects}
	res, err := registerScript.Run(ctx, s.rdb, keys, canon, fingerprint(canon), subject, expectVersions).Int64Slice()
	if err != nil {
		return 0, 0, false, fmt.Errorf("registering schema: %w", err)
	}
	if len(res) != 2 {
		return 0, 0, false, fmt.Errorf("registering schema: script returned %v", res)
	}
	if res[0] == 0 {
		return 0, 0, true, nil
	}
	return res[0], int(res[1]), false, nil
}

// lookup finds canon: its id (0 when no subject has it), its version under
// subject (0 when subject lacks it), and the ids of all of subject's versions.
func (s *store) lookup(ctx context.Context, subject, canon string) (id int64, version int, ids []int64, err error) {
	pipe := s.rdb.Pipeline()
	idCmd := pipe.HGet(ctx, keyFingerprints, fingerprint(canon))
	idsCmd := pipe.LRange(ctx, keyVersions(subject), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, nil, fmt.Errorf("looking up schema: %w", err)
	}
	if err := idsCmd.Err(); err != nil {
		return 0, 0, nil, fmt.Errorf("looking up schema: %w", err)
	}
	if ids, err = parseIDs(idsCmd.Val()); err != nil {
		return 0, 0, nil, err
	}
	switch err := idCmd.Err(); {
	case errors.Is(err, redis.Nil):
		return 0, 0, ids, nil
	case err != nil:
		return 0, 0, nil, fmt.Errorf("looking up schema: %w", err)
	}
	if id, err = strconv.ParseInt(idCmd.Val(), 10, 64); err != nil {
		return 0, 0, nil, fmt.Errorf("looking up schema: bad id %q", idCmd.Val())
	}
	return id, slices.Index(ids, id) + 1, ids, nil
}

// versionIDs returns the ids of subject's versions, oldest first; none when
// the subject does not exist.
func (s *store) versionIDs(ctx context.Context, subject string) ([]int64, error) {
	vals, err := s.rdb.LRange(ctx, keyVersions(subject), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading versions: %w", err)
	}
	return parseIDs(vals)
}

func parseIDs(vals []string) ([]int64, error) {
	ids := make([]int64, len(vals))
	for i, v := range vals {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad schema id %q in redis", v)
		}
		ids[i] = id
	}
	return ids, nil
}

// schemas returns the texts of ids; ok is false when one is missing.
func (s *store) schemas(ctx context.Context, ids ...int64) (texts []string, ok bool, err error) {
	if len(ids) == 0 {
		return nil, true, nil
	}
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = strconv.FormatInt(id, 10)
	}
	vals, err := s.rdb.HMGet(ctx, keySchemas, fields...).Result()
	if err != nil {
		return nil, false, fmt.Errorf("reading schemas: %w", err)
	}
	texts = make([]string, len(vals))
	for i, v := range vals {
		str, isStr := v.(string)
		if !isStr {
			return nil, false, nil
		}
		texts[i] = str
	}
	return texts, true, nil
}

func (s *store) subjects(ctx context.Context) ([]string, error) {
	subjects, err := s.rdb.SMembers(ctx, keySubjects).Result()
	if err != nil {
		return nil, fmt.Errorf("listing subjects: %w", err)
	}
	slices.Sort(subjects)
	return subjects, nil
}

// level returns the compatibility level of subject ("" for the global one)
// and whether it was set explicitly.
func (s *store) level(ctx context.Context, subject string) (string, bool, error) {
	var cmd *redis.StringCmd
	if subject == "" {
		cmd = s.rdb.Get(ctx, keyGlobalConfig)
	} else {
		cmd = s.rdb.HGet(ctx, keySubjectConfig, subject)
	}
	level, err := cmd.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("reading compatibility level: %w", err)
	}
	return level, true, nil
}

func (s *store) setLevel(ctx context.Context, subject, level string) error {
	var err error
	if subject == "" {
		err = s.rdb.Set(ctx, keyGlobalConfig, level, 0).Err()
	} else {
		err = s.rdb.HSet(ctx, keySubjectConfig, subject, level).Err()
	}
	if err != nil {
		return fmt.Errorf("setting compatibility level: %w", err)
	}
	return nil
}

// mode returns the mode of subject ("" for the global one) and whether it
// was set explicitly.
func (s *store) mode(ctx context.Context, subject string) (string, bool, error) {
	var cmd *redis.StringCmd
	if subject == "" {
		cmd = s.rdb.Get(ctx, keyGlobalMode)
	} else {
		cmd = s.rdb.HGet(ctx, keySubjectMode, subject)
	}
	mode, err := cmd.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("reading mode: %w", err)
	}
	return mode, true, nil
}

// setMode sets the mode of subject ("" for the global one); an empty mode
// deletes a subject's own.
func (s *store) setMode(ctx context.Context, subject, mode string) error {
	var err error
	switch {
	case subject == "":
		err = s.rdb.Set(ctx, keyGlobalMode, mode, 0).Err()
	case mode == "":
		err = s.rdb.HDel(ctx, keySubjectMode, subject).Err()
	default:
		err = s.rdb.HSet(ctx, keySubjectMode, subject, mode).Err()
	}
	if err != nil {
		return fmt.Errorf("setting mode: %w", err)
	}
	return nil
}
