using System.Security.Cryptography;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.UnitTests.Infrastructure.Persistence;

public sealed class KeysetCursorTests
{
    private const string Filters = "migrant_smuggling|high,critical||RS,HU|";
    private static readonly KeysetCursor.Position Position = new(new DateTimeOffset(2026, 11, 5, 21, 30, 15, 123, TimeSpan.Zero).AddTicks(4560), Guid.CreateVersion7());

    private static KeysetCursor WithKey(byte[]? key = null)
    {
        var keyring = new ServerKeyring();
        keyring.Load(key ?? RandomNumberGenerator.GetBytes(32));
        return new KeysetCursor(keyring);
    }

    [Fact]
    public void A_cursor_decodes_to_the_position_it_was_issued_for()
    {
        var cursors = WithKey();

        var error = cursors.TryDecode(cursors.Encode(Position, Filters), Filters, out var decoded);

        Assert.Null(error);
        Assert.Equal(Position, decoded);
    }

    [Fact]
    public void A_ranked_cursor_decodes_to_its_rank_and_position()
    {
        var cursors = WithKey();
        var ranked = Position with { Rank = 3 };

        var error = cursors.TryDecode(cursors.Encode(ranked, Filters), Filters, out var decoded, ranked: true);

        Assert.Null(error);
        Assert.Equal(ranked, decoded);
    }

    [Fact]
    public void A_ranked_cursor_does_not_continue_an_unranked_listing_nor_the_other_way_round()
    {
        var cursors = WithKey();

        Assert.Equal("The cursor is not one this API issued.", cursors.TryDecode(cursors.Encode(Position with { Rank = 0 }, Filters), Filters, out _));
        Assert.Equal("The cursor is not one this API issued.", cursors.TryDecode(cursors.Encode(Position, Filters), Filters, out _, ranked: true));
    }

    [Fact]
    public void A_windowed_cursor_decodes_to_its_rank_position_and_window_and_continues_nothing_else()
    {
        var cursors = WithKey();
        var windowed = Position with { Rank = 1002, Window = new(Position.At.AddMinutes(5), Guid.CreateVersion7(), Position.At.AddDays(-3), Guid.CreateVersion7()) };
        var cursor = cursors.Encode(windowed, Filters);

        Assert.Null(cursors.TryDecode(cursor, Filters, out var decoded, windowed: true));
        Assert.Equal(windowed, decoded);
        Assert.InRange(cursor.Length, 1, IntelSharing.Api.Infrastructure.Validation.PageRules<IPagedQuery>.MaxCursorLength);
        Assert.Equal("The cursor is not one this API issued.", cursors.TryDecode(cursor, Filters, out _));
        Assert.Equal("The cursor is not one this API issued.", cursors.TryDecode(cursor, Filters, out _, ranked: true));
        Assert.Equal("The cursor is not one this API issued.", cursors.TryDecode(cursors.Encode(Position with { Rank = 3 }, Filters), Filters, out _, windowed: true));
    }

    [Fact]
    public void A_cursor_is_url_safe_text()
    {
        var cursor = WithKey().Encode(Position, Filters);

        Assert.Equal(Uri.EscapeDataString(cursor), cursor);
        Assert.DoesNotContain('=', cursor);
    }

    [Fact]
    public void Another_instance_with_the_same_key_accepts_the_cursor()
    {
        var key = RandomNumberGenerator.GetBytes(32);

        Assert.Null(WithKey(key).TryDecode(WithKey(key).Encode(Position, Filters), Filters, out _));
    }

    [Fact]
    public void Changing_any_byte_of_a_cursor_makes_it_invalid()
    {
        var cursors = WithKey();
        var bytes = FromBase64Url(cursors.Encode(Position, Filters));

        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;

            var error = cursors.TryDecode(ToBase64Url(tampered), Filters, out var decoded);

            Assert.Equal("The cursor is not one this API issued.", error);
            Assert.Equal(default, decoded);
        }
    }

    [Fact]
    public void A_cursor_issued_under_another_key_is_invalid() =>
        Assert.Equal("The cursor is not one this API issued.", WithKey().TryDecode(WithKey().Encode(Position, Filters), Filters, out _));

    [Theory]
    [InlineData("cyber_incident|high,critical||RS,HU|")]
    [InlineData("migrant_smuggling|high||RS,HU|")]
    [InlineData("migrant_smuggling|high,critical||RS|")]
    [InlineData("migrant_smuggling|high,critical||RS,HU|2026-11-01T00:00:00Z")]
    [InlineData("||||")]
    public void A_cursor_presented_with_other_filters_says_so(string otherFilters)
    {
        var cursors = WithKey();

        var error = cursors.TryDecode(cursors.Encode(Position, Filters), otherFilters, out _);

        Assert.Equal("The cursor was issued for different filters; start again without a cursor.", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a cursor")]
    [InlineData("!!!!")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJ1cGRhdGVkQXQiOiIyMDI2LTExLTA1In0")]
    public void Garbage_is_not_a_cursor(string garbage) =>
        Assert.Equal("The cursor is not one this API issued.", WithKey().TryDecode(garbage, Filters, out _));

    private static byte[] FromBase64Url(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    private static string ToBase64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
