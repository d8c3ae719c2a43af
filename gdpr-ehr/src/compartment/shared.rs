//! The resource types found in a patient's compartment that are not the
//! patient's alone, with the reason each is never deleted.

/// Types found in a patient's compartment (or `$everything`) that are not
/// the patient's alone, with the reason they are never deleted.
pub const SHARED: &[(&str, &str)] = &[
    ("Group", "a Group lists other patients too"),
    (
        "Appointment",
        "an Appointment has other participants (practitioners, rooms)",
    ),
    (
        "AppointmentResponse",
        "it answers an Appointment with other participants",
    ),
    (
        "Schedule",
        "a Schedule belongs to a practitioner, room or service",
    ),
    (
        "Slot",
        "a Slot belongs to a practitioner's or room's Schedule",
    ),
    (
        "Communication",
        "a Communication has other senders or recipients",
    ),
    (
        "CommunicationRequest",
        "a CommunicationRequest has other senders or recipients",
    ),
    (
        "Provenance",
        "a Provenance records the actions of staff on other records",
    ),
    (
        "AuditEvent",
        "an AuditEvent is the system's own security log",
    ),
    (
        "Practitioner",
        "a Practitioner is a member of staff, not the patient",
    ),
    (
        "PractitionerRole",
        "a PractitionerRole is a member of staff's role",
    ),
    ("Organization", "an Organization is shared by many patients"),
    ("Location", "a Location is shared by many patients"),
    (
        "Medication",
        "a Medication is a product definition shared by many patients",
    ),
    (
        "Substance",
        "a Substance is a definition shared by many patients",
    ),
    ("Device", "a Device may be used for other patients"),
    (
        "RelatedPerson",
        "a RelatedPerson is data about another person",
    ),
    (
        "Person",
        "a Person links records across systems and other people",
    ),
    ("List", "a List may hold other patients' entries"),
    (
        "HealthcareService",
        "a HealthcareService is shared by many patients",
    ),
    ("Endpoint", "an Endpoint is technical configuration"),
];

/// The reason a non-own type is never deleted.
pub(crate) fn shared_reason(name: &str) -> &'static str {
    SHARED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, reason)| *reason)
        .unwrap_or("a resource type gdpr-ehr does not classify; left for review, never deleted")
}

/// The shared types of the Patient compartment with the search parameter
/// that finds them by patient (R4 CompartmentDefinition `patient`), for
/// servers without `$everything` and for the check after an erasure.
pub const SHARED_SEARCHES: &[(&str, &str)] = &[
    ("Group", "member"),
    ("Appointment", "actor"),
    ("AppointmentResponse", "actor"),
    ("Schedule", "actor"),
    ("Communication", "subject"),
    ("Communication", "sender"),
    ("Communication", "recipient"),
    ("CommunicationRequest", "subject"),
    ("Provenance", "patient"),
    ("AuditEvent", "patient"),
    ("Device", "patient"),
    ("RelatedPerson", "patient"),
    ("Person", "patient"),
    ("List", "subject"),
];
