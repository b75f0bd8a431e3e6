-- Moderator actions on items (approve, reject, remove) also reach the
-- moderation log, as `item.approve`, `item.reject` and `item.remove`, in the
-- statement (and so the transaction) that writes the item log entry.
--
-- Submissions and flags are not staff actions and are not copied. The
-- encodings are the moderation log's own: the target is the item's kind and
-- object key, times are microseconds, the IP is the address as text, the
-- bulk id is a hyphenated UUID, all as the item log stores them.

CREATE FUNCTION moderation_item_log_to_moderation_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO moderation_log
        (action, actor, target_kind, target_key, reason, before_state, after_state, detail,
         ip, bulk_id, at)
    SELECT 'item.' || NEW.action, NEW.actor, items.kind, items.object_key, NEW.reason,
           NEW.from_status, NEW.to_status, NEW.detail, NEW.ip, NEW.bulk_id, NEW.at
    FROM moderation_items AS items
    WHERE items.id = NEW.item_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER moderation_item_log_to_moderation_log
AFTER INSERT ON moderation_item_log
FOR EACH ROW
WHEN (NEW.action IN ('approve', 'reject', 'remove'))
EXECUTE FUNCTION moderation_item_log_to_moderation_log();
