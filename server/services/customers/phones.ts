import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Db } from '../../data/db.js';

// Phones as E.164 ("+14155550100"): what duplicate suggestions and phone search compare
// (migration 0030). Written with the phone by the customer and contact services and the seed; a
// row written without it (psql, SQL imports) gets the database's fallback, which only strips the
// formatting and applies the default country code (see the migration for its limits).

let region: CountryCode = 'US';

/** The region a phone without a country code belongs to (DEFAULT_PHONE_REGION). */
export const defaultPhoneRegion = () => region;

/**
 * Sets the default region for this process and stores its calling code for the database's
 * fallback (so rows written by psql get the same country code).
 */
export async function configurePhones(db: Db, defaultRegion: CountryCode): Promise<void> {
  region = defaultRegion;
  await db.query(`UPDATE phone_settings SET default_country_code = $1`, [
    getCountryCallingCode(defaultRegion)
  ]);
}

/**
 * A phone in E.164, national numbers read in the default region; undefined when libphonenumber
 * cannot read it (the database's fallback then applies), null for no phone (fewer than six digits).
 */
export function phoneE164(
  phone: string | null | undefined,
  defaultRegion = region
): string | null | undefined {
  if (phone == null || phone.replace(/\D/g, '').length < 6) return null;
  const parsed = parsePhoneNumberFromString(phone, defaultRegion);
  return parsed?.number ?? undefined;
}
