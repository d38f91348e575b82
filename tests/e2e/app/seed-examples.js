// Every usage example of Intempt's Node.js SDK document, verbatim (the
// document's e-mail placeholders included); only the SDK import differs. The
// opt-out examples run last so the tracking examples are recorded.
export async function seedExamples(intempt) {
  // Identify
  await intempt.identify(
    "1845348", // user profile identifier
    "[email protected]", // unique user identifier
    "Identify User", // event title (optional)
    { country: "USA" }, // user attributes (optional)
  );
  await intempt.identify("1845348", "[email protected]");
  await intempt.identify("1845348", "[email protected]", "Identify User");
  await intempt.identify("1845348", "[email protected]", "Identify User", { country: "USA" });

  // Group
  await intempt.group(
    "1845348", // user profile identifier
    "intempt.com", // unique account identifier
    "Identify Account", // event title (optional)
    { country: "USA" }, // account attributes (optional)
  );
  await intempt.group("1845348", "intempt.com");
  await intempt.group("1845348", "intempt.com", "Identify Account");
  await intempt.group("1845348", "intempt.com", "Identify UsAccounter", { company_country: "USA" });

  // Track
  await intempt.track(
    "1845348", // user profile identifier
    "Purchase", // event title
    { purchase_amount: 50.0, product_name: "Shoes" }, // event properties
  );
  await intempt.track("1845348", "Purchase", { price_amount: 50, product_name: "Shoes" });

  // Alias
  await intempt.alias(
    "1845348", // user profile identifier
    "[email protected]", // first user identifier
    "555-555-1234", // second user identifier to merge with
  );
  await intempt.alias("1845348", "[email protected]", "555-555-1234");

  // Record
  await intempt.record(
    "1845348", // user profile identifier
    "Purchase", // event title
    "[email protected]", // unique user identifier (optional)
    "intempt.com", // unique account identifier (optional)
    { purchase_amount: 50.0, product_name: "Shoes" }, // event properties
    { country: "USA" }, // user attributes
    { company_country: "USA" }, // account attributes
  );
  await intempt.record("1845348", "Purchase", "[email protected]", "intempt.com", { purchase_amount: 50.0, product_name: "Shoes" });
  await intempt.record("1845348", "Purchase", "[email protected]", undefined, { purchase_amount: 50.0, product_name: "Shoes" }, { country: "USA" });
  await intempt.record("1845348", "Purchase", undefined, "intempt.com", { purchase_amount: 50.0, product_name: "Shoes" }, undefined, {
    company_country: "USA",
  });

  // Consents
  await intempt.consents(
    "1845348", // user profile identifier
    "accept", // consent action 'accept' or 'reject' allowed
    "1711705256000", // consents expiration time in ms (optional)
    "[email protected]", // user consents email (optional)
    "consents message", // user consents message (optional)
  );
  await intempt.consents("1845348", "accept");
  await intempt.consents("1845348", "accept", undefined, "[email protected]", "consents message");

  // Consent
  await intempt.consent(
    "1845348", // user profile identifier
    "accept", // consent action 'accept' or 'reject' allowed
    "GDPR", // consent category
    "1711705256000", // consents expiration time in ms (optional)
    "[email protected]", // user consents email (optional)
    "consents message", // user consents message (optional)
  );
  await intempt.consent("1845348", "accept", "GDPR");
  await intempt.consent("1845348", "accept", "GDPR", undefined, "[email protected]", "consents message");

  // Optimization choose methods
  const choices = [];
  choices.push(
    await intempt.choosePersonalizationsByGroups(
      "1845348", // user profile identifier
      ["banner"], // list of groups, if undefined - select all
    ),
  );
  choices.push(await intempt.choosePersonalizationsByGroups("1845348"));
  choices.push(await intempt.choosePersonalizationsByGroups("1845348", ["banner"]));
  choices.push(
    await intempt.choosePersonalizationsByNames(
      "1845348", // user profile identifier
      ["new year banner"], // list of names, if undefined - select all
    ),
  );
  choices.push(await intempt.choosePersonalizationsByNames("1845348"));
  choices.push(await intempt.choosePersonalizationsByNames("1845348", ["new year banner"]));
  choices.push(
    await intempt.chooseExperimentsByGroups(
      "1845348", // user profile identifier
      ["banner"], // list of groups, if undefined - select all
    ),
  );
  choices.push(await intempt.chooseExperimentsByGroups("1845348"));
  choices.push(await intempt.chooseExperimentsByGroups("1845348", ["banner"]));
  choices.push(await intempt.chooseExperimentsByNames("1845348"));
  choices.push(await intempt.chooseExperimentsByNames("1845348", ["new year banner"]));

  // Flush what was queued, then the opt-in/opt-out examples.
  const report = await intempt.flush();
  await intempt.optIn();
  await intempt.optOut();
  await intempt.track("1845348", "Purchase", { price_amount: 50, product_name: "Shoes" });
  const optedOut = intempt.stats().optedOut;
  await intempt.optIn();
  return { report, choices, optedOut, afterOptOut: await intempt.flush() };
}
