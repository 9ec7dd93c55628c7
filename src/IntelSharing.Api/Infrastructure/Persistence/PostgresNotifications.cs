using Npgsql;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>
/// PostgreSQL only: a dedicated connection LISTENing on one channel, for the listeners that turn another instance's
/// committed change into a wake-up here (API-key changes, the change feed). Features hear payloads, never the driver.
/// An idle connection is checked every <c>idleCheck</c>, so a connection that died silently ends
/// <see cref="RunAsync"/> with an exception (the caller reconnects) instead of waiting for TCP to give up.
/// </summary>
public sealed class PostgresNotifications : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private PostgresNotifications(NpgsqlConnection connection) => _connection = connection;

    /// <summary>Listening once this returns: every notice committed from now on reaches <paramref name="onNotice"/> (payload).</summary>
    public static async Task<PostgresNotifications> ListenAsync(Database database, string applicationName, string channel, Action<string> onNotice, CancellationToken cancellationToken)
    {
        var connection = await database.OpenDedicatedPostgresAsync(applicationName, cancellationToken);
        try
        {
            connection.Notification += (_, notice) => onNotice(notice.Payload);
            await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
            await listen.ExecuteNonQueryAsync(cancellationToken);
            return new PostgresNotifications(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Delivers notices until cancelled or the connection fails (then throws).</summary>
    public async Task RunAsync(TimeSpan idleCheck, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Notices arrive (and are handed on) while waiting; a quiet interval ends in a round trip that fails if the
            // connection is gone.
            if (!await _connection.WaitAsync(idleCheck, cancellationToken))
            {
                await using var check = new NpgsqlCommand("SELECT 1", _connection) { CommandTimeout = (int)Math.Max(1, idleCheck.TotalSeconds) };
                await check.ExecuteScalarAsync(cancellationToken);
            }
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
