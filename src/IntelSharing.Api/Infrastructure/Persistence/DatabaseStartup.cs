using Microsoft.Extensions.Options;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>Holds the per-deployment keys loaded at start.</summary>
public sealed class ServerKeyring
{
    private byte[]? _cursorKey;

    public byte[] CursorKey => _cursorKey ?? throw new InvalidOperationException("The server keyring is loaded at start; the host has not started.");

    public void Load(byte[] cursorKey) => _cursorKey = cursorKey;
}

/// <summary>
/// Runs before the server accepts requests: applies migrations (unless switched off) and loads the keyring.
/// Hosted services start before Kestrel, so no request can reach an unmigrated database.
/// </summary>
public sealed class DatabaseStartup(Migrator migrator, Database database, ServerKeyring keyring, TimeProvider time, IOptions<DatabaseOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart)
        {
            await migrator.MigrateAsync(cancellationToken);
        }

        keyring.Load(await ServerSecrets.GetOrCreateAsync(database, time, "alert-cursor", cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
