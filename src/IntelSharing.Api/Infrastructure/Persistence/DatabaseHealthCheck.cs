using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IntelSharing.Api.Infrastructure.Persistence;

/// <summary>Ready means the database answers a query.</summary>
public sealed class DatabaseHealthCheck(Database database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken));
            return HealthCheckResult.Healthy($"{database.Dialect.Provider} answers.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{database.Dialect.Provider} does not answer: {ex.GetType().Name}.");
        }
    }
}
