using System.Collections.Concurrent;
using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Security;

/// <summary>Bound from the <c>ApiKeys</c> configuration section (e.g. <c>ApiKeys__CacheMaxAgeSeconds</c>).</summary>
public sealed class ApiKeyCacheOptions
{
    public const string Section = "ApiKeys";

    /// <summary>
    /// The longest a cached key row is used before it is read again: the backstop should a change notice be lost.
    /// <c>0</c> switches the cache off (every request reads its key from the database, as before issue 9).
    /// </summary>
    public int CacheMaxAgeSeconds { get; set; } = 60;

    /// <summary>The most key rows one instance keeps; beyond it, further keys are read from the database each time.</summary>
    public int CacheCapacity { get; set; } = 10_000;
}

public sealed class ApiKeyCacheOptionsValidator : IValidateOptions<ApiKeyCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiKeyCacheOptions options)
    {
        var failures = new List<string>();
        if (options.CacheMaxAgeSeconds is < 0 or > 3_600)
        {
            failures.Add($"ApiKeys__CacheMaxAgeSeconds must be from 0 (no cache) to 3600, not {options.CacheMaxAgeSeconds}.");
        }

        if (options.CacheCapacity is < 1 or > 1_000_000)
        {
            failures.Add($"ApiKeys__CacheCapacity must be from 1 to 1000000, not {options.CacheCapacity}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>An API key as authentication needs it: the key row joined with its agency's name and active flag.</summary>
public sealed record ApiKeyRecord
{
    public Guid KeyId { get; init; }

    public Guid AgencyId { get; init; }

    public string AgencyName { get; init; } = null!;

    public bool AgencyActive { get; init; }

    public byte[] SecretHash { get; init; } = null!;

    public string Scopes { get; init; } = null!;

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Whether the key may be used at <paramref name="now"/>: not revoked, not expired, its agency active.</summary>
    public bool IsUsableAt(DateTimeOffset now) => RevokedAt is null && !(ExpiresAt <= now) && AgencyActive;

    /// <summary>The claims a request made with this key carries (<see cref="Caller.From"/> reads them back).</summary>
    public List<System.Security.Claims.Claim> Claims(string prefix)
    {
        var claims = new List<System.Security.Claims.Claim>
        {
            new(Caller.AgencyIdClaim, AgencyId.ToString()),
            new(Caller.AgencyNameClaim, AgencyName),
            new(Caller.KeyPrefixClaim, prefix),
        };
        claims.AddRange(Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new System.Security.Claims.Claim(Caller.ScopeClaim, s)));
        return claims;
    }
}

/// <summary>
/// What a presented key is worth: its row when usable, else why not. <see cref="Prefix"/> and <see cref="AgencyId"/>
/// (known only when the secret matched) are kept for the audit record of a refusal.
/// </summary>
public sealed record ApiKeyVerdict(ApiKeyRecord? Row, string? Refusal, string? Prefix, Guid? AgencyId);

/// <summary>
/// Finds an API key row by its public prefix, through a small cache so that a request does not cost a database round
/// trip for its key (docs/decisions/0014). What is cached is the row, hash included, never a verdict: the caller still
/// hashes the presented key and compares it on every request, and checks revocation, expiry (against the clock, so a
/// key expires on time without any notice) and the agency's flag on every request.
/// <para>
/// A row is used only while the cache can trust that it hears about changes. On SQLite (one process) every writer
/// calls <see cref="Invalidate"/> after its commit. On PostgreSQL the writers do too (so the instance that made a
/// change honours it on the very next request), and a trigger NOTIFYs every other instance, whose
/// <see cref="ApiKeyChangeListener"/> calls <see cref="Invalidate"/>; while that listener is not connected the cache
/// is bypassed (<see cref="Distrust"/>), because a notice may be missed. Any change empties the whole cache: changes
/// are rare operator actions, and refilling costs one query per key in use. Unknown prefixes are not cached, so a
/// newly issued key needs no notice and guessing prefixes cannot fill the cache.
/// </para>
/// </summary>
public sealed class ApiKeyLookup
{
    private sealed record Entry(ApiKeyRecord Row, DateTimeOffset LoadedAt);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Database _database;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;
    private readonly int _capacity;

    // Bumped by every invalidation; a row read from the database is kept only if no invalidation happened while it
    // was being read, so a read that saw the old row cannot put it back after the change was announced.
    private long _generation;

    // Whether changes made elsewhere reach this cache; false while the PostgreSQL listener is not connected.
    private volatile bool _trusted;

    public ApiKeyLookup(Database database, TimeProvider time, IOptions<ApiKeyCacheOptions> options)
    {
        _database = database;
        _time = time;
        _maxAge = TimeSpan.FromSeconds(options.Value.CacheMaxAgeSeconds);
        _capacity = options.Value.CacheCapacity;
        // SQLite is one process whose writers invalidate in-process; PostgreSQL waits for the listener to connect.
        _trusted = database.Dialect.Provider == DatabaseProvider.Sqlite;
    }

    /// <summary>Whether cached rows are being used; false while changes made by other instances could go unheard.</summary>
    public bool IsTrusted => _trusted;

    /// <summary>How many rows are cached (for tests and diagnostics).</summary>
    public int Count => _entries.Count;

    public async ValueTask<ApiKeyRecord?> FindAsync(string prefix, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_trusted && _entries.TryGetValue(prefix, out var cached))
        {
            if (now - cached.LoadedAt < _maxAge)
            {
                return cached.Row;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(prefix, cached));
        }

        var generation = Interlocked.Read(ref _generation);
        var row = await ReadAsync(prefix, cancellationToken);
        if (row is not null)
        {
            Keep(prefix, new Entry(row, now), generation);
        }

        return row;
    }

    /// <summary>
    /// Checks a whole presented key: finds its row by prefix, compares the hash in constant time (also when the prefix is
    /// unknown, so that timing does not tell known prefixes apart), and refuses revoked or expired keys and keys of
    /// deactivated agencies. The one check both the API's bearer authentication and the console's sign-in make.
    /// </summary>
    public async ValueTask<ApiKeyVerdict> VerifyAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var prefix = ApiKeys.PrefixOf(key);
        if (prefix is null)
        {
            return new ApiKeyVerdict(null, "The API key is not well-formed.", null, null);
        }

        var row = await FindAsync(prefix, cancellationToken);

        // (A cached row answers sooner than a database read; that tells only that a prefix is in use, and prefixes are
        // public anyway: listings, audit records, logs.)
        var matches = ApiKeys.Matches(key, row?.SecretHash ?? new byte[32]);
        if (row is null || !matches)
        {
            return new ApiKeyVerdict(null, "The API key is not valid.", prefix, null);
        }

        return row.IsUsableAt(now)
            ? new ApiKeyVerdict(row, null, prefix, row.AgencyId)
            : new ApiKeyVerdict(null, "The API key is revoked, expired, or belongs to a deactivated agency.", prefix, row.AgencyId);
    }

    /// <summary>Forgets every cached row: called after a commit that changed a key or an agency, and on a change notice.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _generation++;
            _entries.Clear();
        }
    }

    /// <summary>Stops using cached rows until <see cref="Trust"/>: changes made elsewhere might not be heard.</summary>
    public void Distrust()
    {
        lock (_gate)
        {
            _trusted = false;
            _generation++;
            _entries.Clear();
        }
    }

    /// <summary>
    /// Uses cached rows again, starting empty: called once the listener is connected, so every change from now on
    /// will be heard, and rows read before (when notices could have been missed) are not kept.
    /// </summary>
    public void Trust()
    {
        lock (_gate)
        {
            _generation++;
            _entries.Clear();
            _trusted = true;
        }
    }

    private void Keep(string prefix, Entry entry, long generation)
    {
        if (_maxAge <= TimeSpan.Zero)
        {
            return;
        }

        lock (_gate)
        {
            if (!_trusted || _generation != generation)
            {
                return;
            }

            if (_entries.Count >= _capacity)
            {
                foreach (var (stalePrefix, stale) in _entries)
                {
                    if (entry.LoadedAt - stale.LoadedAt >= _maxAge)
                    {
                        _entries.TryRemove(stalePrefix, out _);
                    }
                }

                if (_entries.Count >= _capacity)
                {
                    return;
                }
            }

            _entries[prefix] = entry;
        }
    }

    private async Task<ApiKeyRecord?> ReadAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ApiKeyRecord>(new CommandDefinition(
            """
            SELECT k.id AS KeyId, k.agency_id AS AgencyId, a.name AS AgencyName, a.is_active AS AgencyActive,
                   k.secret_hash AS SecretHash, k.scopes AS Scopes, k.expires_at AS ExpiresAt, k.revoked_at AS RevokedAt
            FROM api_keys k JOIN agencies a ON a.id = k.agency_id
            WHERE k.prefix = @prefix
            """,
            new { prefix },
            cancellationToken: cancellationToken));
    }
}
