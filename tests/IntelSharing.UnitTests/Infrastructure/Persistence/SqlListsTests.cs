using Dapper;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

public sealed class SqlListsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(4, 4)]
    [InlineData(17, 32)]
    public void A_padded_list_has_a_power_of_two_of_parameters_and_repeats_only_its_last_value(int count, int expected)
    {
        var values = Enumerable.Range(1, count).ToList();
        var parameters = new DynamicParameters();

        var sql = SqlLists.InPadded(parameters, "v", values);

        Assert.Equal($"({string.Join(", ", Enumerable.Range(0, expected).Select(i => $"@v{i}"))})", sql);
        var bound = Enumerable.Range(0, expected).Select(i => parameters.Get<int>($"v{i}")).ToList();
        Assert.Equal(values, bound.Take(count));
        Assert.All(bound.Skip(count), v => Assert.Equal(count, v));
    }

    [Fact]
    public void An_empty_padded_list_matches_nothing()
    {
        Assert.Equal("(SELECT NULL WHERE 1 = 0)", SqlLists.InPadded(new DynamicParameters(), "v", Array.Empty<int>()));
    }
}
