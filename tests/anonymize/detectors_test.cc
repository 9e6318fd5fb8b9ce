// Each pattern detector: values it must find, and look-alikes it must leave alone.
#include <catch2/catch.hpp>

#include "anonymize/validate.h"
#include "anonymize_test_support.h"

using namespace cqda::anonymize;
using namespace cqda::anonymize::testing;

namespace {
std::string redact(const std::string& text) {
  static Fixture fixture(policy_with(cqda::policy::Action::kRedact), "name,aliases,type\n", false);
  return fixture.run(text);
}
}  // namespace

TEST_CASE("e-mail addresses are replaced whole") {
  CHECK(redact("Write to maria.santos+news@example.co.uk.") == "Write to [EMAIL].");
  CHECK(redact("josé.müller@bücher.de said") == "[EMAIL] said");
  CHECK(redact("no mail here: maria at example dot com") == "no mail here: maria at example dot com");
}

TEST_CASE("@handles, not the @ of an e-mail") {
  CHECK(redact("Follow @maria_cares on X") == "Follow [HANDLE] on X");
  CHECK(redact("(@joanna_k)") == "([HANDLE])");
  CHECK(redact("mail maria@example.org") == "mail [EMAIL]");
  CHECK(redact("see you @ 3") == "see you @ 3");
  CHECK(redact("meet @10") == "meet @10");
}

TEST_CASE("URLs without trailing punctuation") {
  CHECK(redact("See https://example.org/a/b?x=1.") == "See [URL].");
  CHECK(redact("(www.maria-santos.com)") == "([URL])");
  CHECK(redact("Wikipedia (https://en.wikipedia.org/wiki/Foo_(bar)) says") == "Wikipedia ([URL]) says");
  CHECK(redact("the world wide web") == "the world wide web");
}

TEST_CASE("phone numbers") {
  CHECK(redact("Call +44 20 7946 0958 today") == "Call [PHONE] today");
  CHECK(redact("Call +49 30 1234567.") == "Call [PHONE].");
  CHECK(redact("mobile 07700 900123") == "mobile [PHONE]");
  CHECK(redact("office 020 7946 0958") == "office [PHONE]");
  CHECK(redact("US (415) 555-0132 or 415-555-0132 or 415.555.0132") ==
        "US [PHONE] or [PHONE] or [PHONE]");
  CHECK(redact("+44 (0)20 7946 0958") == "[PHONE]");
  CHECK(redact("mobile 07700 900123 2019") == "mobile [PHONE] 2019");
  CHECK(redact("portable 06 12 34 56 78") == "portable [PHONE]");
}

TEST_CASE("numbers that are not phone numbers") {
  for (const char* text : {"In 1984 and 2019 we met", "at 14:00 or 7.30", "it cost £10.42",
                           "about 12,345,678 people", "on 12/03/1984", "on 12.03.1984",
                           "on 2024-01-15", "room 0123", "ref 123456789", "0.5 1234 5678",
                           "ISBN 0-306-40615-2", "version 1.2.3", "call 123-456-7890"}) {
    CAPTURE(text);
    CHECK(redact(text) == text);
  }
}

TEST_CASE("IPv4 and IPv6 addresses") {
  CHECK(redact("from 192.168.1.20, then") == "from [IP], then");
  CHECK(redact("ping 2001:db8::8a2e:370:7334 now") == "ping [IP] now");
  CHECK(redact("loopback ::1 and fe80::1.") == "loopback ::1 and [IP].");
  CHECK(redact("version 300.1.2.3 and 1.2.3.4.5") == "version 300.1.2.3 and 1.2.3.4.5");
  CHECK(redact("std::string and 10:30:45 and a::b") == "std::string and 10:30:45 and a::b");
}

TEST_CASE("IBANs with a valid checksum") {
  CHECK(redact("IBAN DE89 3704 0044 0532 0130 00 please") == "IBAN [IBAN] please");
  CHECK(redact("GB82WEST12345698765432.") == "[IBAN].");
  CHECK(redact("pay to fr1420041010050500013m02606") == "pay to [IBAN]");
  // One digit changed: the checksum fails.
  CHECK(redact("IBAN DE89 3704 0044 0532 0130 01") == "IBAN DE89 3704 0044 0532 0130 01");
  CHECK(validate::iban_valid("GB82WEST12345698765432"));
  CHECK_FALSE(validate::iban_valid("GB82WEST12345698765433"));
  CHECK_FALSE(validate::iban_valid("XX82WEST12345698765432"));
}

TEST_CASE("payment cards: Luhn and issuer prefix") {
  CHECK(redact("card 4111 1111 1111 1111 exp") == "card [CARD] exp");
  CHECK(redact("card 5500-0000-0000-0004") == "card [CARD]");
  CHECK(redact("amex 378282246310005") == "amex [CARD]");
  CHECK(redact("card 4111 1111 1111 1111 2020") == "card [CARD] 2020");
  // Not Luhn-valid; Luhn-valid but no card issuer starts with 9.
  CHECK(redact("card 4111 1111 1111 1112") == "card 4111 1111 1111 1112");
  CHECK(redact("id 9111111111111111") == "id 9111111111111111");
  CHECK(validate::luhn_valid("79927398713"));
  CHECK_FALSE(validate::luhn_valid("79927398710"));
}

TEST_CASE("national identity numbers") {
  CHECK(redact("NI number AB 12 34 56 C.") == "NI number [NATIONAL-ID].");
  CHECK(redact("NINO AB123456C") == "NINO [NATIONAL-ID]");
  CHECK(redact("bad prefix GB 12 34 56 A") == "bad prefix GB 12 34 56 A");
  CHECK(redact("SSN 123-45-6789") == "SSN [NATIONAL-ID]");
  for (const char* bad : {"000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"}) {
    CAPTURE(bad);
    CHECK(redact(bad) == bad);
  }
  CHECK(redact("DNI 12345678Z") == "DNI [NATIONAL-ID]");
  CHECK(redact("NIE X1234567L") == "NIE [NATIONAL-ID]");
  CHECK(redact("DNI 12345678A") == "DNI 12345678A");  // wrong check letter
}

TEST_CASE("national ID countries can be limited") {
  auto p = policy_with(cqda::policy::Action::kRedact);
  p.national_id_countries = {"uk-nino"};
  Fixture f(p, "name,aliases,type\n", false);
  CHECK(f.run("SSN 123-45-6789, NINO AB123456C") == "SSN 123-45-6789, NINO [NATIONAL-ID]");
}

TEST_CASE("postcodes: UK always, 5-digit codes only in an address") {
  CHECK(redact("lives in M14 5AB now") == "lives in [POSTCODE] now");
  CHECK(redact("SW1A 1AA and EC1A1BB") == "[POSTCODE] and [POSTCODE]");
  CHECK(redact("Hauptstraße 5, 10115 Berlin") == "[PLACE], [POSTCODE] Berlin");  // no place list here
  CHECK(redact("12 rue de Rivoli, 75001 Paris") == "12 rue de Rivoli, [POSTCODE] Paris");
  CHECK(redact("Springfield, IL 62704-1234") == "Springfield, IL [POSTCODE]");
  CHECK(redact("zip code: 94103") == "zip code: [POSTCODE]");
  CHECK(redact("PLZ 80331") == "PLZ [POSTCODE]");
  CHECK(redact("we surveyed 10115 people in 12000 homes") == "we surveyed 10115 people in 12000 homes");
  // A word of residence, then "near" or "in" and a 5-digit code that ends the phrase.
  CHECK(redact("my brother still lives there, near 94103. His number") == "my brother still lives there, near [POSTCODE]. His number");
  CHECK(redact("we lived in 10115, then moved") == "we lived in [POSTCODE], then moved");
  // Amounts and counts stay.
  CHECK(redact("near 20000 people came") == "near 20000 people came");
  CHECK(redact("my salary is near 30000.") == "my salary is near 30000.");
  CHECK(redact("I earn around 21000.") == "I earn around 21000.");
  CHECK(redact("we lived there in 2019.") == "we lived there in 2019.");
  CHECK(redact("In 2019 about 12000 People") == "In 2019 about 12000 People");
}

TEST_CASE("dates of birth only in a birth context") {
  CHECK(redact("She was born on 12 March 1984 in Leeds") == "She was born on [DOB] in Leeds");
  CHECK(redact("born March 12, 1984") == "born [DOB]");
  CHECK(redact("DOB: 1984-03-12") == "DOB: [DOB]");
  CHECK(redact("Date of birth 12/03/1984") == "Date of birth [DOB]");
  CHECK(redact("geboren am 12.03.1984") == "geboren am [DOB]");
  CHECK(redact("his birthday is 3rd of May 1990") == "his birthday is [DOB]");
  CHECK(redact("We met on 12 March 1984 at 14:00") == "We met on 12 March 1984 at 14:00");
  CHECK(redact("the interview on 12/03/2023") == "the interview on 12/03/2023");
  CHECK(redact("born in 1984") == "born in 1984");
}
