// Package route53 switches traffic with the weights of two Route 53
// weighted records of one name: SetIdentifier "blue" and "green", each
// pointing at one color's endpoint. The records, their values, TTLs, alias
// targets and health checks are the user's and must exist; bluegreen
// changes only their weights.
//
// A weight is the color's percentage (0-100, within Route 53's 0-255).
// Read maps any weights back to percentages, and reads two zero weights as
// the equal split Route 53 then answers with.
//
// A switch is one change batch that deletes each record with the values
// just read and creates it again with its new weight. Route 53 applies a
// batch as one transaction and refuses a delete whose values no longer
// match, so a change made by someone else since the read fails the whole
// batch instead of being overwritten. The switch returns once Route 53
// reports the change INSYNC on all its name servers.
//
// DNS switches are not instant for clients: resolvers may keep the old
// answer for the record's TTL, so the old color must stay up at least that
// long (see Router.Warning).
package route53
