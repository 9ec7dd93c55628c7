using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using IntelSharing.Api.Infrastructure.Json;
using IntelSharing.Api.Infrastructure.Persistence;

namespace IntelSharing.Api.Features.Alerts;

/// <summary>
/// Full-text search across scripts (ADR 21). Text is folded here, in C#, the same way for what is stored and for
/// what is asked: Serbian (and Macedonian, Russian, Ukrainian) Cyrillic to Latin, lower case, every Latin letter with
/// a diacritic to its base letter and every combining mark dropped, and one spelling for the Serbian d-sounds (<c>đ</c>, <c>dj</c>
/// and the <c>d</c> of text typed without diacritics all become <c>d</c>). So <c>Београд</c>, <c>Beograd</c> and
/// <c>BEOGRAD</c> are one word, as are <c>Šid</c> and <c>Sid</c>, <c>Röszke</c> and <c>Roszke</c>, and
/// <c>Đorđe</c>, <c>Djordje</c> and <c>Dorde</c>. The folded words, separated by single spaces, are stored per
/// alert in <c>alert_search</c>, written with every version; the database's own engine indexes and matches them
/// (PostgreSQL <c>tsvector</c> with GIN, SQLite FTS5).
/// </summary>
public static class AlertSearch
{
    /// <summary>The most characters <c>q</c> may have: a search, not a document.</summary>
    public const int MaxQueryLength = 200;

    /// <summary>The most distinct words a search may have: each is one more index lookup and one more rank term.</summary>
    public const int MaxQueryTerms = 8;

    /// <summary>
    /// Longer words are neither stored nor searched: nobody types them, and PostgreSQL refuses a lexeme over 2,046 bytes
    /// (a run of base64 in a summary would otherwise fail the alert's write).
    /// </summary>
    public const int MaxWordLength = 100;

    /// <summary>The folded words of a search, each at most once, in the order given.</summary>
    public static IReadOnlyList<string> Terms(string query) => Words(query).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The folded text stored for one alert version: its title, and everything else a reader would search by.</summary>
    public static (string Title, string Body) DocumentOf(AlertView view)
    {
        var body = new List<string?> { view.Summary, view.Handling.Conditions };
        if (view.Smuggling is { } smuggling)
        {
            body.Add(smuggling.ModusOperandi);
            body.AddRange(smuggling.NetworkNames ?? []);
            body.AddRange((smuggling.Route ?? []).Select(p => p.Place));
            body.AddRange((smuggling.CrossingPoints ?? []).Select(c => c.Name));
        }

        if (view.Cyber is { } cyber)
        {
            body.AddRange(cyber.AttackTechniques ?? []);
            body.AddRange(cyber.Cves ?? []);
        }

        // Names of persons are left out on purpose: searching people by name is a consultation of personal data that
        // belongs with a stated purpose per person, not with a free-text box (ADR 21).
        body.AddRange(view.Indicators.Select(i => i.Description));
        return (Fold(view.Title), Fold(string.Join('\n', body.Where(t => !string.IsNullOrEmpty(t)))));
    }

    /// <summary>The most occurrences of the words that count towards <see cref="Relevance"/>: past it, more repetition says nothing.</summary>
    public const int MaxCountedOccurrences = 999;

    /// <summary>
    /// How well an alert's stored search text (<see cref="DocumentOf"/>, folded) answers the folded words of a search, for
    /// <c>sort=relevance</c> (ADR 41): first how many of the words its title holds, then how often the words occur in its
    /// whole text (up to <see cref="MaxCountedOccurrences"/>), as one number, higher first. It depends on this alert alone,
    /// never on the rest of the store, so a cursor's place in a ranked answer does not drift as other alerts are published,
    /// and both databases rank alike.
    /// </summary>
    public static int Relevance(IReadOnlyList<string> terms, string title, string body)
    {
        var titleWords = title.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var inTitle = terms.Count(t => titleWords.Contains(t, StringComparer.Ordinal));
        var occurrences = titleWords.Concat(body.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Count(w => terms.Contains(w, StringComparer.Ordinal));
        return (inTitle * (MaxCountedOccurrences + 1)) + Math.Min(occurrences, MaxCountedOccurrences);
    }

    /// <summary>Folded words separated by single spaces.</summary>
    private static string Fold(string text) => string.Join(' ', Words(text));

    /// <summary>
    /// The statement that stores a version's search text, one per version in the version's own batch: an upsert, so
    /// an update re-indexes the alert in the same transaction that publishes the new version.
    /// </summary>
    public static void AddTo(SqlBatch batch, AlertView view)
    {
        var (title, body) = DocumentOf(view);
        batch.Add(
            """
            INSERT INTO alert_search (alert_id, title, body) VALUES (@Id, @SearchTitle, @SearchBody)
            ON CONFLICT (alert_id) DO UPDATE SET title = excluded.title, body = excluded.body
            """,
            new { view.Id, SearchTitle = title, SearchBody = body });
    }

    /// <summary>A revoked or expired alert keeps no content, so it keeps no search text either.</summary>
    public const string RemoveSql = "DELETE FROM alert_search WHERE alert_id = @id";

    /// <summary>
    /// Indexes active alerts that have no search row: those stored before search existed (migration 15), however the
    /// migration was applied (at start, by <c>migrate</c> or from <c>migration-sql</c> out of band). Runs at start;
    /// when every active alert has its row, one anti-join that finds nothing is all it costs. Safe beside other
    /// instances doing the same: a row another instance wrote first is left as it is.
    /// </summary>
    public static async Task BackfillAsync(Database database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var after = Guid.Empty;
        while (true)
        {
            var page = (await connection.QueryAsync<(Guid Id, string Document)>(new CommandDefinition(
                """
                SELECT a.id, a.document FROM alerts a
                WHERE a.status = 'active' AND a.id > @after AND NOT EXISTS (SELECT 1 FROM alert_search s WHERE s.alert_id = a.id)
                ORDER BY a.id LIMIT 500
                """,
                new { after }, cancellationToken: cancellationToken))).AsList();
            if (page.Count == 0)
            {
                return;
            }

            var batch = new SqlBatch();
            foreach (var row in page)
            {
                var view = JsonSerializer.Deserialize<AlertView>(row.Document, JsonDefaults.Options)!;
                var (title, body) = DocumentOf(view);
                var name = batch.NextName("s");
                batch.Add($"INSERT INTO alert_search (alert_id, title, body) VALUES ({batch.Parameter(name + "id", view.Id)}, {batch.Parameter(name + "title", title)}, {batch.Parameter(name + "body", body)}) ON CONFLICT (alert_id) DO NOTHING");
            }

            await using var write = await Database.BeginWriteAsync(connection, cancellationToken);

            var transaction = write.Transaction;
            await batch.ExecuteAsync(connection, transaction, cancellationToken);
            await write.CommitAsync(cancellationToken);
            after = page[^1].Id;
        }
    }

    /// <summary>Runs <see cref="BackfillAsync"/> at start, after the migrations (registered after DatabaseStartup).</summary>
    public sealed class Backfill(Database database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => BackfillAsync(database, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static IEnumerable<string> AllWords(string text)
    {
        // Character by character rather than through string.Normalize: the server runs with invariant globalization
        // (no ICU in the container), where normalization does nothing. Combining marks of text sent decomposed are dropped.
        var word = new StringBuilder();
        foreach (var c in text)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            var lower = char.ToLowerInvariant(c);
            if (Folded.TryGetValue(lower, out var latin))
            {
                word.Append(latin);
            }
            else if (char.IsLetterOrDigit(lower))
            {
                word.Append(lower);
            }
            else if (word.Length > 0)
            {
                yield return Canonical(word);
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            yield return Canonical(word);
        }
    }

    // Serbian writes one sound as đ, as dj where the keyboard has no đ, and as d where diacritics were dropped: one spelling for all three.
    private static string Canonical(StringBuilder word) => word.Replace("dj", "d").ToString();

    private static IEnumerable<string> Words(string text) => AllWords(text).Where(w => w.Length <= MaxWordLength);

    /// <summary>
    /// Cyrillic to Latin as the Serbian alphabets pair them (џ→dž, љ→lj, њ→nj; ђ→đ, written here as the d it folds to),
    /// with Macedonian, Russian and Ukrainian letters by their usual romanisation, already without diacritics.
    /// </summary>
    private static readonly (char Letter, string Latin)[] Cyrillic =
    [
        ('а', "a"), ('б', "b"), ('в', "v"), ('г', "g"), ('д', "d"), ('ђ', "d"), ('е', "e"), ('ж', "z"), ('з', "z"),
        ('и', "i"), ('ј', "j"), ('к', "k"), ('л', "l"), ('љ', "lj"), ('м', "m"), ('н', "n"), ('њ', "nj"), ('о', "o"),
        ('п', "p"), ('р', "r"), ('с', "s"), ('т', "t"), ('ћ', "c"), ('у', "u"), ('ф', "f"), ('х', "h"), ('ц', "c"),
        ('ч', "c"), ('џ', "dz"), ('ш', "s"),
        ('ѓ', "gj"), ('ќ', "kj"), ('ѕ', "dz"),
        ('й', "j"), ('ё', "e"), ('ы', "y"), ('э', "e"), ('ю', "ju"), ('я', "ja"), ('щ', "sc"), ('ь', ""), ('ъ', ""),
        ('є', "je"), ('і', "i"), ('ї', "ji"), ('ґ', "g"),
    ];

    /// <summary>Latin letters that Unicode does not decompose into a base letter and a mark.</summary>
    private static readonly (char Letter, string Latin)[] LatinWithoutDecomposition =
    [
        ('đ', "d"), ('ð', "d"), ('ł', "l"), ('ø', "o"), ('æ', "ae"), ('œ', "oe"), ('ß', "ss"), ('þ', "th"), ('ı', "i"), ('ħ', "h"), ('ŧ', "t"),
    ];

    /// <summary>
    /// Latin letters with diacritics (Latin-1, Extended-A and -B, Extended Additional) by the base letter their
    /// compatibility decomposition starts with: the table string.Normalize would give with ICU.
    /// </summary>
    private static readonly (string Latin, string Letters)[] LatinWithDiacritics =
    [
        ("a", "ÀÁÂÃÄÅàáâãäåĀāĂăĄąǍǎǞǟǠǡǺǻȀȁȂȃȦȧḀḁẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặ"),
        ("b", "ḂḃḄḅḆḇ"),
        ("c", "ÇçĆćĈĉĊċČčḈḉ"),
        ("d", "ĎďḊḋḌḍḎḏḐḑḒḓ"),
        ("dz", "ǄǅǆǱǲǳ"),
        ("e", "ÈÉÊËèéêëĒēĔĕĖėĘęĚěȄȅȆȇȨȩḔḕḖḗḘḙḚḛḜḝẸẹẺẻẼẽẾếỀềỂểỄễỆệ"),
        ("f", "Ḟḟ"),
        ("g", "ĜĝĞğĠġĢģǦǧǴǵḠḡ"),
        ("h", "ĤĥȞȟḢḣḤḥḦḧḨḩḪḫẖ"),
        ("i", "ÌÍÎÏìíîïĨĩĪīĬĭĮįİǏǐȈȉȊȋḬḭḮḯỈỉỊị"),
        ("ij", "Ĳĳ"),
        ("j", "Ĵĵǰ"),
        ("k", "ĶķǨǩḰḱḲḳḴḵ"),
        ("l", "ĹĺĻļĽľḶḷḸḹḺḻḼḽ"),
        ("lj", "Ǉǈǉ"),
        ("m", "ḾḿṀṁṂṃ"),
        ("n", "ÑñŃńŅņŇňǸǹṄṅṆṇṈṉṊṋ"),
        ("nj", "Ǌǋǌ"),
        ("o", "ÒÓÔÕÖòóôõöŌōŎŏŐőƠơǑǒǪǫǬǭȌȍȎȏȪȫȬȭȮȯȰȱṌṍṎṏṐṑṒṓỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợ"),
        ("p", "ṔṕṖṗ"),
        ("r", "ŔŕŖŗŘřȐȑȒȓṘṙṚṛṜṝṞṟ"),
        ("s", "ŚśŜŝŞşŠšſȘșṠṡṢṣṤṥṦṧṨṩẛ"),
        ("t", "ŢţŤťȚțṪṫṬṭṮṯṰṱẗ"),
        ("u", "ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųƯưǓǔǕǖǗǘǙǚǛǜȔȕȖȗṲṳṴṵṶṷṸṹṺṻỤụỦủỨứỪừỬửỮữỰự"),
        ("v", "ṼṽṾṿ"),
        ("w", "ŴŵẀẁẂẃẄẅẆẇẈẉẘ"),
        ("x", "ẊẋẌẍ"),
        ("y", "ÝýÿŶŷŸȲȳẎẏẙỲỳỴỵỶỷỸỹ"),
        ("z", "ŹźŻżŽžẐẑẒẓẔẕ"),
    ];

    /// <summary>What each folded character becomes: Cyrillic, Latin letters with accents, and the Latin letters without a decomposition.</summary>
    private static readonly FrozenDictionary<char, string> Folded = BuildFolded(); // After the tables it is built from: static fields initialise in order.

    private static FrozenDictionary<char, string> BuildFolded()
    {
        var folded = new Dictionary<char, string>();
        foreach (var (letter, latin) in Cyrillic.Concat(LatinWithoutDecomposition))
        {
            folded[letter] = latin;
        }

        foreach (var (latin, letters) in LatinWithDiacritics)
        {
            foreach (var letter in letters)
            {
                folded[letter] = latin;
            }
        }

        return folded.ToFrozenDictionary();
    }
}
