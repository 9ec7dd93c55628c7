using IntelSharing.Api.Domain;

namespace IntelSharing.UnitTests.Domain;

public sealed class IndicatorRulesTests
{
    private static string Valid(IndicatorType type, string value)
    {
        var outcome = IndicatorRules.Normalise(type, value);
        Assert.True(outcome.IsValid, $"'{value}' as {type} was refused: {outcome.Error}");
        return outcome.Normalised!;
    }

    private static string Invalid(IndicatorType type, string value)
    {
        var outcome = IndicatorRules.Normalise(type, value);
        Assert.False(outcome.IsValid, $"'{value}' as {type} was accepted as '{outcome.Normalised}'");
        Assert.Null(outcome.Normalised);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Error));
        return outcome.Error!;
    }

    [Theory]
    [InlineData(IndicatorType.Ipv4)]
    [InlineData(IndicatorType.Domain)]
    [InlineData(IndicatorType.Phone)]
    [InlineData(IndicatorType.Iban)]
    public void Empty_blank_overlong_and_control_character_values_are_refused_for_every_type(IndicatorType type)
    {
        Assert.Contains("empty", Invalid(type, string.Empty), StringComparison.Ordinal);
        Assert.Contains("empty", Invalid(type, "   "), StringComparison.Ordinal);
        Assert.Contains("2048", Invalid(type, new string('1', IndicatorRules.MaxValueLength + 1)), StringComparison.Ordinal);
        Assert.Contains("control", Invalid(type, "185.220.101.4\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("185.220.101.4", "185.220.101.4")]
    [InlineData(" 91.198.174.192 ", "91.198.174.192")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("10.0.0.1", "10.0.0.1")]
    public void Ipv4_accepts_dotted_quads(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Ipv4, value));

    [Theory]
    [InlineData("1.2.3")]
    [InlineData("1")]
    [InlineData("010.1.1.1")]
    [InlineData("1.2.3.04")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("1.2.3.4:80")]
    [InlineData("1.2.3.4/24")]
    [InlineData("١.٢.٣.٤")]
    [InlineData("::1")]
    public void Ipv4_refuses_anything_but_a_plain_dotted_quad_and_shows_an_example(string value) =>
        Assert.Contains("185.220.101.4", Invalid(IndicatorType.Ipv4, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("2a02:2f0e::", "2a02:2f0e::")]
    [InlineData("::ffff:185.220.101.4", "::ffff:185.220.101.4")]
    [InlineData("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8")]
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221")]
    public void Ipv6_accepts_every_textual_form_and_stores_the_rfc_5952_form(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Ipv6, value));

    [Theory]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::1%3")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("2001:db8::1/64")]
    [InlineData("2001:db8:::1")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("2001:db8::g")]
    [InlineData("::ffff:010.1.1.1")]
    [InlineData("185.220.101.4")]
    public void Ipv6_refuses_zone_ids_brackets_prefixes_and_malformed_text(string value) =>
        Assert.Contains("2001:db8::1", Invalid(IndicatorType.Ipv6, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("Secure-Login-MUP.example.RS", "secure-login-mup.example.rs")]
    [InlineData("mup.gov.rs.", "mup.gov.rs")]
    [InlineData("пример.срб", "xn--e1afmkfd.xn--90a3ac")]
    [InlineData("ПРИМЕР.СРБ", "xn--e1afmkfd.xn--90a3ac")]
    [InlineData("xn--e1afmkfd.xn--90a3ac", "xn--e1afmkfd.xn--90a3ac")]
    [InlineData("Bücher.DE", "xn--bcher-kva.de")]
    [InlineData("policija.hr", "policija.hr")]
    [InlineData("r3---sn-a5mekn7r.example.com", "r3---sn-a5mekn7r.example.com")]
    [InlineData("a.io", "a.io")]
    public void Domain_is_stored_in_lower_case_ascii_with_punycode_for_internationalised_names(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Domain, value));

    [Theory]
    [InlineData("localhost")]
    [InlineData("-mup.gov.rs")]
    [InlineData("mup-.gov.rs")]
    [InlineData("mup..gov.rs")]
    [InlineData("exa_mple.com")]
    [InlineData("example.123")]
    [InlineData("185.220.101.4")]
    [InlineData("example.c0m")]
    [InlineData("xn--zz.com")]
    [InlineData("xn--a.rs")]
    [InlineData("a\u200Bb.com")]
    [InlineData("😀.com")]
    [InlineData("https://mup.gov.rs")]
    [InlineData("mup gov.rs")]
    public void Domain_refuses_invalid_labels_and_names_and_says_what_a_domain_looks_like(string value) =>
        Assert.Contains("secure-login-mup.example.rs", Invalid(IndicatorType.Domain, value), StringComparison.Ordinal);

    [Fact]
    public void Domain_refuses_a_label_over_63_characters_and_a_name_over_253()
    {
        Valid(IndicatorType.Domain, new string('a', 63) + ".rs");
        Invalid(IndicatorType.Domain, new string('a', 64) + ".rs");
        var label = new string('a', 62);
        Valid(IndicatorType.Domain, string.Join('.', label, label, label, label[..59], "rs"));
        Invalid(IndicatorType.Domain, string.Join('.', label, label, label, label, "rs"));
    }

    [Theory]
    [InlineData("HTTPS://Secure-Login-MUP.example.RS/prijava?next=%2Fe-uprava", "https://secure-login-mup.example.rs/prijava?next=%2Fe-uprava")]
    [InlineData("http://пример.срб/login", "http://xn--e1afmkfd.xn--90a3ac/login")]
    [InlineData("https://185.220.101.4:8443/gate.php", "https://185.220.101.4:8443/gate.php")]
    [InlineData("http://[2001:DB8::1]/x", "http://[2001:db8::1]/x")]
    [InlineData("http://3232235777/", "http://192.168.1.1/")]
    [InlineData("ftp://files.example.ba/docs/", "ftp://files.example.ba/docs/")]
    [InlineData("https://mup.gov.rs/a b", "https://mup.gov.rs/a%20b")]
    public void Url_is_stored_with_lower_case_scheme_and_host_and_punycode(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Url, value));

    [Theory]
    [InlineData("secure-login-mup.example.rs/prijava")]
    [InlineData("javascript:alert(1)")]
    [InlineData("mailto:someone@example.com")]
    [InlineData("file:///etc/passwd")]
    [InlineData("hxxps://evil[.]example[.]com/")]
    [InlineData("https://localhost/")]
    [InlineData("https://exa_mple.com/")]
    [InlineData("/relative/path")]
    public void Url_refuses_relative_non_web_and_invalid_host_urls(string value) =>
        Assert.Contains("URL", Invalid(IndicatorType.Url, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("Transport.Balkan@Example.COM", "transport.balkan@example.com")]
    [InlineData("krijumcar+rs@пример.срб", "krijumcar+rs@xn--e1afmkfd.xn--90a3ac")]
    [InlineData("o'brien@example.co.uk", "o'brien@example.co.uk")]
    public void Email_is_stored_in_lower_case_with_a_punycode_domain(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Email, value));

    [Theory]
    [InlineData("transport.balkan")]
    [InlineData("@example.com")]
    [InlineData("transport@")]
    [InlineData(".transport@example.com")]
    [InlineData("transport.@example.com")]
    [InlineData("trans..port@example.com")]
    [InlineData("\"quoted name\"@example.com")]
    [InlineData("transport@localhost")]
    [InlineData("transport@exa_mple.com")]
    [InlineData("ćevap@example.rs")]
    public void Email_refuses_malformed_addresses_and_shows_an_example(string value) =>
        Assert.Contains("local-part@domain", Invalid(IndicatorType.Email, value), StringComparison.Ordinal);

    [Fact]
    public void Email_refuses_a_local_part_over_64_characters() =>
        Invalid(IndicatorType.Email, new string('a', 65) + "@example.com");

    [Theory]
    [InlineData(IndicatorType.Sha256, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData(IndicatorType.Md5, "098F6BCD4621D373CADE4E832627B4F6", "098f6bcd4621d373cade4e832627b4f6")]
    public void Hashes_are_stored_in_lower_case_hex(IndicatorType type, string value, string normalised) =>
        Assert.Equal(normalised, Valid(type, value));

    [Theory]
    [InlineData(IndicatorType.Sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0", "64")]
    [InlineData(IndicatorType.Sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a080", "64")]
    [InlineData(IndicatorType.Sha256, "zf86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "64")]
    [InlineData(IndicatorType.Md5, "098f6bcd4621d373cade4e832627b4f", "32")]
    [InlineData(IndicatorType.Md5, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "32")]
    public void Hashes_of_the_wrong_length_or_alphabet_are_refused_with_the_expected_length(IndicatorType type, string value, string length) =>
        Assert.Contains($"exactly {length} hexadecimal", Invalid(type, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("+381 64 123 4567", "+381641234567")]
    [InlineData("+381-64-123-4567", "+381641234567")]
    [InlineData("+381 (11) 306 2000", "+381113062000")]
    [InlineData("+381.63.555.0101", "+381635550101")]
    [InlineData("+36 1 234 5678", "+3612345678")]
    [InlineData("+387 61 123 456", "+38761123456")]
    [InlineData("+44 20 7946 0958", "+442079460958")]
    [InlineData("+290 1234", "+2901234")]
    public void Phone_numbers_are_stored_in_e164_without_separators(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Phone, value));

    [Theory]
    [InlineData("064 123 4567", "'+'")]
    [InlineData("381641234567", "'+'")]
    [InlineData("+0381641234567", "+381 64 123 4567")]
    [InlineData("+381 64 123 4567 8901", "7 to 15 digits")]
    [InlineData("+381 64", "7 to 15 digits")]
    [InlineData("+381 64 123 456x", "7 to 15 digits")]
    [InlineData("+381/64/123-4567", "7 to 15 digits")]
    [InlineData("00381 64 123 4567", "not '00'")]
    [InlineData("+381 (0)64 123 4567", "(0)")]
    public void Phone_numbers_must_be_international_with_a_plus_and_say_how(string value, string hint) =>
        Assert.Contains(hint, Invalid(IndicatorType.Phone, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("BG 1234-AB", "BG1234AB")]
    [InlineData("su 123-ab", "SU123AB")]
    [InlineData("ČA 012-ŠŽ", "ČA012ŠŽ")]
    [InlineData("NI.045.ĐĆ", "NI045ĐĆ")]
    [InlineData("B-MW 1234", "BMW1234")]
    [InlineData("ZG·1234-A", "ZG1234A")]
    public void Vehicle_plates_are_stored_upper_case_without_separators(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.VehiclePlate, value));

    [Theory]
    [InlineData("B")]
    [InlineData("ABCDEFGHIJ1234567")]
    [InlineData("BG/1234")]
    [InlineData("BG_1234")]
    [InlineData("BG 1234 🚗")]
    public void Vehicle_plates_with_other_characters_or_lengths_are_refused(string value) =>
        Assert.Contains("BG 1234-AB", Invalid(IndicatorType.VehiclePlate, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("9074729", "IMO9074729")]
    [InlineData("IMO 9074729", "IMO9074729")]
    [InlineData("imo-9074729", "IMO9074729")]
    [InlineData("IMO9176187", "IMO9176187")]
    public void Imo_numbers_with_a_correct_check_digit_are_stored_with_the_imo_prefix(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.VesselImo, value));

    [Theory]
    [InlineData("9074728", "check digit")]
    [InlineData("IMO 9074720", "check digit")]
    [InlineData("907472", "7 digits")]
    [InlineData("90747290", "7 digits")]
    [InlineData("IMO 907472A", "7 digits")]
    public void Imo_numbers_with_a_wrong_check_digit_or_shape_are_refused(string value, string hint)
    {
        var error = Invalid(IndicatorType.VesselImo, value);
        Assert.Contains(hint, error, StringComparison.Ordinal);
        Assert.Contains("IMO 9074729", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("012345678", "012345678")]
    [InlineData("ab 123 4567", "AB1234567")]
    [InlineData("C01X00T47", "C01X00T47")]
    [InlineData("L898902C3<<<", "L898902C3")]
    [InlineData("P-123-456", "P123456")]
    public void Travel_document_numbers_are_stored_upper_case_without_separators_or_fillers(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.TravelDocument, value));

    [Theory]
    [InlineData("AB1")]
    [InlineData("ABCDEFGHIJ12345678901")]
    [InlineData("AB/123456")]
    [InlineData("ПА123456")]
    public void Travel_document_numbers_of_other_shapes_are_refused(string value) =>
        Assert.Contains("AB1234567", Invalid(IndicatorType.TravelDocument, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("RS35 2600 0560 1001 6113 79", "RS35260005601001611379")]
    [InlineData("rs35260005601001611379", "RS35260005601001611379")]
    [InlineData("HU42 1177 3016 1111 1018 0000 0000", "HU42117730161111101800000000")]
    [InlineData("DE89 3704 0044 0532 0130 00", "DE89370400440532013000")]
    [InlineData("HR12 1001 0051 8630 0016 0", "HR1210010051863000160")]
    [InlineData("BA39 1290 0794 0102 8494", "BA391290079401028494")]
    [InlineData("ME25 5050 0001 2345 6789 51", "ME25505000012345678951")]
    [InlineData("MK07 2501 2000 0058 984", "MK07250120000058984")]
    [InlineData("AL47 2121 1009 0000 0002 3569 8741", "AL47212110090000000235698741")]
    [InlineData("XK05 1212 0123 4567 8906", "XK051212012345678906")]
    [InlineData("SI56 2633 0001 2039 086", "SI56263300012039086")]
    [InlineData("AT61 1904 3002 3457 3201", "AT611904300234573201")]
    [InlineData("GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819")]
    [InlineData("DE02 3704 0044 0000 0000 24", "DE02370400440000000024")]
    public void Ibans_with_the_country_length_and_a_correct_checksum_are_stored_compact_and_upper_case(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.Iban, value));

    [Theory]
    [InlineData("RS35 2600 0560 1001 6113 78", "check digits")]
    [InlineData("RS53 2600 0560 1001 6113 79", "check digits")]
    [InlineData("DE99 3704 0044 0000 0000 24", "check digits")]
    [InlineData("RS35 2600 0560 1001 6113 7", "22 characters")]
    [InlineData("HU42 1177 3016 1111 1018 0000 000", "28 characters")]
    [InlineData("DE89 3704 0044 0532 0130 001", "22 characters")]
    [InlineData("YU12 2600 0560 1001 6113 79", "'YU' does not issue IBANs")]
    [InlineData("US12 3456 7890 1234", "'US' does not issue IBANs")]
    [InlineData("35 2600 0560 1001 6113 79", "RS35 2600")]
    [InlineData("RS35 2600 0560 1001 6113 7_", "RS35 2600")]
    public void Ibans_with_a_wrong_length_country_or_checksum_are_refused_and_say_why(string value, string hint) =>
        Assert.Contains(hint, Invalid(IndicatorType.Iban, value), StringComparison.Ordinal);

    [Fact]
    public void Every_european_country_that_issues_ibans_has_its_length_in_the_table()
    {
        string[] europe =
        [
            "AD", "AL", "AT", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FO", "FR", "GB", "GI", "GL", "GR", "HR",
            "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "SE", "SI", "SK",
            "SM", "UA", "VA", "XK", "TR", "GE", "AZ", "RU",
        ];

        Assert.Empty(europe.Except(IndicatorRules.IbanCountries));
    }

    [Theory]
    [InlineData("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")]
    [InlineData("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")]
    [InlineData("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")]
    [InlineData("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]
    [InlineData("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")]
    [InlineData("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y")]
    [InlineData("BC1SW50QGDZ25J", "bc1sw50qgdz25j")]
    [InlineData("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7")]
    public void Bitcoin_addresses_with_a_valid_checksum_are_accepted(string value, string normalised) =>
        Assert.Equal(normalised, Valid(IndicatorType.CryptoWallet, value));

    [Theory]
    [InlineData("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")] // last character changed: Base58Check checksum fails
    [InlineData("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN")] // one character short
    [InlineData("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz")]
    [InlineData("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr")] // bech32 checksum fails
    [InlineData("bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")] // mixed case
    [InlineData("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh")] // witness v0 with a bech32m checksum (BIP 350)
    [InlineData("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd")] // witness v1 with a bech32 checksum (BIP 350)
    [InlineData("bc1qbar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")] // 'b' is not in the bech32 alphabet
    [InlineData("0A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")]
    public void Bitcoin_addresses_with_a_wrong_checksum_or_shape_are_refused(string value) =>
        Assert.Contains("Bitcoin", Invalid(IndicatorType.CryptoWallet, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    public void Ethereum_addresses_in_one_case_or_with_a_valid_eip55_checksum_are_stored_in_lower_case(string value) =>
        Assert.Equal("0x" + value[2..].ToLowerInvariant(), Valid(IndicatorType.CryptoWallet, value));

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55")]
    [InlineData("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "EIP-55")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "40 hexadecimal")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", "40 hexadecimal")]
    [InlineData("0xgaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "40 hexadecimal")]
    public void Ethereum_addresses_with_a_broken_checksum_or_shape_are_refused(string value, string hint) =>
        Assert.Contains(hint, Invalid(IndicatorType.CryptoWallet, value), StringComparison.Ordinal);

    [Theory]
    [InlineData("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")]
    [InlineData("44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A")]
    public void Tron_and_monero_addresses_are_accepted_as_sent(string value) =>
        Assert.Equal(value, Valid(IndicatorType.CryptoWallet, value));

    [Theory]
    [InlineData("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")]
    [InlineData("44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3")]
    [InlineData("not-a-wallet")]
    public void Tron_addresses_with_a_wrong_checksum_and_monero_addresses_of_the_wrong_length_are_refused(string value) =>
        Invalid(IndicatorType.CryptoWallet, value);
}
