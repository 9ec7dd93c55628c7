using IntelSharing.Api.Infrastructure.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

public sealed class DatabaseSettingsTests
{
    private static async Task<NpgsqlConnectionStringBuilder> EffectiveAsync(string connectionString)
    {
        await using var database = new Database(Options.Create(new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }));
        return new NpgsqlConnectionStringBuilder(database.PostgresConnectionString);
    }

    [Fact]
    public async Task PostgreSQL_connections_prepare_statements_automatically_by_default()
    {
        var settings = await EffectiveAsync("Host=db;Database=intelsharing;Username=intelsharing");

        Assert.Equal(Database.DefaultMaxAutoPrepare, settings.MaxAutoPrepare);
        Assert.True(settings.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;maxautoprepare=20", 20)]
    public async Task An_operator_who_sets_Max_Auto_Prepare_keeps_that_value(string connectionString, int expected)
    {
        var settings = await EffectiveAsync(connectionString);

        Assert.Equal(expected, settings.MaxAutoPrepare);
    }
}
