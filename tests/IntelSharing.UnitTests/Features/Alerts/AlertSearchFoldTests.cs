using IntelSharing.Api.Features.Alerts;

using IntelSharing.Api.Features.Sharing;
namespace IntelSharing.UnitTests.Features.Alerts;

/// <summary>The folding that makes one word of every spelling a reader on the route might type (ADR 21).</summary>
public sealed class AlertSearchFoldTests
{
    [Theory]
    [InlineData("Београд", "beograd")]
    [InlineData("BEOGRAD", "beograd")]
    [InlineData("Šid", "sid")]
    [InlineData("Шид", "sid")]
    [InlineData("Đorđe", "dorde")]
    [InlineData("Djordje", "dorde")]
    [InlineData("Dorde", "dorde")]
    [InlineData("Ђорђе", "dorde")]
    [InlineData("DJORDJE", "dorde")]
    [InlineData("Preševo", "presevo")]
    [InlineData("Horgoš", "horgos")]
    [InlineData("Röszke", "roszke")]
    [InlineData("Čakovec", "cakovec")]
    [InlineData("Ćuprija", "cuprija")]
    [InlineData("Ћуприја", "cuprija")]
    [InlineData("Љубљана", "ljubljana")]
    [InlineData("Њемачка", "njemacka")]
    [InlineData("Џеп", "dzep")]
    [InlineData("Džep", "dzep")]
    [InlineData("ǅep", "dzep")]
    [InlineData("Gevgelija", "gevgelija")]
    [InlineData("Ѓорѓија", "gjorgjija")]
    [InlineData("Győr", "gyor")]
    [InlineData("Mörbisch", "morbisch")]
    [InlineData("Straße", "strasse")]
    public void Every_spelling_of_a_name_folds_to_one_word(string written, string folded) =>
        Assert.Equal([folded], AlertSearch.Terms(written));

    [Fact]
    public void Words_longer_than_100_characters_are_left_out() =>
        Assert.Equal(["near", "subotica", new string('y', AlertSearch.MaxWordLength)], AlertSearch.Terms($"near {new string('x', AlertSearch.MaxWordLength + 1)} subotica {new string('y', AlertSearch.MaxWordLength)}"));

    [Fact]
    public void A_decomposed_letter_folds_like_the_composed_one() =>
        Assert.Equal(AlertSearch.Terms("Horgo\u0161"), AlertSearch.Terms("Horgos\u030C"));

    [Fact]
    public void Punctuation_and_engine_syntax_separate_words_and_never_survive_folding() =>
        Assert.Equal(["near", "subotica", "horgos", "t1566", "001"], AlertSearch.Terms("NEAR(\"Subotica\"* -Horgoš:*) T1566.001 subotica"));

    [Fact]
    public void A_document_holds_the_free_text_of_the_alert_but_not_the_names_of_persons()
    {
        var view = new AlertView
        {
            Id = Guid.CreateVersion7(),
            Version = 1,
            Status = Api.Domain.AlertStatus.Active,
            Category = Api.Domain.AlertCategory.MigrantSmuggling,
            Title = "Group expected at Horgoš",
            Summary = "Moves from Preševo.",
            Severity = Api.Domain.Severity.High,
            Tlp = Api.Domain.Tlp.Amber,
            Handling = new Handling { Code = Api.Domain.HandlingCode.H3, Conditions = "Not before the Šid operation." },
            Evaluation = new Evaluation { Source = Api.Domain.SourceReliability.B, Information = Api.Domain.InformationAssessment.KnownPersonallyToSource },
            Basis = Api.Domain.Basis.Assessment,
            Countries = ["RS"],
            Originator = new AgencyRef { Id = Guid.CreateVersion7(), Name = "MUP RS", Country = "RS" },
            Audience = [],
            Smuggling = new SmugglingDetails
            {
                ModusOperandi = "Refrigerated truck",
                NetworkNames = ["Đorđe's crew"],
                Route = [new RoutePoint { Place = "Subotica", Country = "RS" }],
                CrossingPoints = [new CrossingPoint { Name = "Kelebija–Tompa", Countries = ["RS", "HU"] }],
            },
            Indicators = [new IndicatorView { Type = Api.Domain.IndicatorType.Phone, Value = "+381641234567", Description = "Driver's Viber" }],
            Persons = [new Person { FullName = "Dragan Petrović", Category = Api.Domain.DataSubjectCategory.Suspect }],
            CreatedAt = DateTimeOffset.UnixEpoch,
            UpdatedAt = DateTimeOffset.UnixEpoch,
        };

        var (title, body) = AlertSearch.DocumentOf(view);

        Assert.Equal("group expected at horgos", title);
        foreach (var word in new[] { "presevo", "sid", "refrigerated", "dorde", "subotica", "kelebija", "tompa", "viber" })
        {
            Assert.Contains(word, body.Split(' '));
        }

        Assert.DoesNotContain("petrovic", body, StringComparison.Ordinal);
        Assert.DoesNotContain("dragan", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Relevance_counts_the_words_in_the_title_before_how_often_the_text_holds_them()
    {
        string[] terms = ["kelebija", "van"];

        var bothInTitle = AlertSearch.Relevance(terms, "van stopped at kelebija", string.Empty);
        var oneInTitle = AlertSearch.Relevance(terms, "van stopped", "kelebija kelebija kelebija kelebija van");
        var repeated = AlertSearch.Relevance(terms, "border report", "kelebija van kelebija van kelebija");
        var once = AlertSearch.Relevance(terms, "border report", "a van near kelebija");

        Assert.True(bothInTitle > oneInTitle && oneInTitle > repeated && repeated > once, $"{bothInTitle} {oneInTitle} {repeated} {once}");
        Assert.Equal(2, once);
        Assert.Equal(0, AlertSearch.Relevance(terms, "vans", "kelebijas"));
    }

    [Fact]
    public void Repetition_beyond_the_counted_occurrences_does_not_outrank_a_title_word()
    {
        string[] terms = ["kelebija"];
        var blob = string.Join(' ', Enumerable.Repeat("kelebija", 5_000));

        Assert.Equal(AlertSearch.MaxCountedOccurrences, AlertSearch.Relevance(terms, "report", blob));
        Assert.True(AlertSearch.Relevance(terms, "kelebija", string.Empty) > AlertSearch.Relevance(terms, "report", blob));
    }
}
